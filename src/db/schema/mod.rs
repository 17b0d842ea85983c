//! Diesel table definitions, kept by hand in step with `migrations/` (a test compares them with the database); the
//! service unit's coordination tables (knowledge, action items, consultations, digests) are in [`coordination`].

mod coordination;
pub use coordination::*;

diesel::table! {
    districts (ags) {
        ags -> Text,
        name -> Text,
        kind -> Text,
        regierungsbezirk -> Text,
        versorgungsgebiet -> Text,
    }
}

diesel::table! {
    organisations (id) {
        id -> Uuid,
        ags -> Nullable<Text>,
        name -> Text,
        kind -> Text,
        district_ags -> Text,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        iban -> Nullable<Text>,
        account_holder -> Nullable<Text>,
        bank_account_version -> Int8,
        bank_account_updated_at -> Nullable<Timestamptz>,
        street -> Nullable<Text>,
        postal_code -> Nullable<Text>,
        city -> Nullable<Text>,
    }
}

diesel::table! {
    funding_lines (code) {
        code -> Text,
        title -> Text,
        description -> Text,
        guideline_reference -> Text,
        eligible_applicant_kinds -> Array<Text>,
        opens_on -> Nullable<Date>,
        closes_on -> Nullable<Date>,
        max_amount_cents -> Nullable<Int8>,
        min_rate_bp -> Int4,
        max_rate_bp -> Int4,
        max_duration_months -> Nullable<Int4>,
        yearly_cap_cents -> Nullable<Int8>,
        budget_cents -> Int8,
        committed_cents -> Int8,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        payout_window_months -> Int4,
        retention_bp -> Int4,
        third_signoff_above_cents -> Nullable<Int8>,
        payments_require_final -> Bool,
        interim_proof_months -> Int4,
        final_proof_months -> Int4,
        plan_line_tolerance_bp -> Int4,
        hearing_days -> Int4,
        interest_threshold_cents -> Int8,
        required_attachments -> Array<Text>,
    }
}

diesel::joinable!(organisations -> districts (district_ags));
diesel::allow_tables_to_appear_in_same_query!(organisations, districts);

diesel::table! {
    use diesel::sql_types::*;

    applications (id) {
        id -> Uuid,
        organisation_id -> Uuid,
        district_ags -> Text,
        funding_line_code -> Text,
        status -> Text,
        title -> Text,
        description -> Text,
        start_date -> Nullable<Date>,
        end_date -> Nullable<Date>,
        total_costs_cents -> Nullable<Int8>,
        own_funds_cents -> Nullable<Int8>,
        third_party_funds_cents -> Nullable<Int8>,
        requested_cents -> Nullable<Int8>,
        plan_years -> Jsonb,
        contact_name -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        referral_id -> Nullable<Uuid>,
        granted_cents -> Nullable<Int8>,
        decision_reason -> Nullable<Text>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        submitted_at -> Nullable<Timestamptz>,
        decided_at -> Nullable<Timestamptz>,
        retain_files_until -> Nullable<Date>,
        topics -> Array<Text>,
    }
}

diesel::table! {
    history (id) {
        id -> Int8,
        resource_kind -> Text,
        resource_id -> Uuid,
        action -> Text,
        actor_sub -> Text,
        actor_role -> Text,
        actor_org_id -> Nullable<Uuid>,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        reason -> Nullable<Text>,
        changed_fields -> Array<Text>,
        occurred_at -> Timestamptz,
        document_id -> Nullable<Uuid>,
        document_sha256 -> Nullable<Text>,
    }
}

diesel::table! {
    application_comments (id) {
        id -> Uuid,
        application_id -> Uuid,
        author_sub -> Text,
        author_role -> Text,
        author_org_id -> Nullable<Uuid>,
        body -> Text,
        internal -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    idempotency_keys (caller, key) {
        caller -> Text,
        key -> Text,
        method -> Text,
        path -> Text,
        request_hash -> Bytea,
        status -> Int4,
        headers -> Jsonb,
        body -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::joinable!(applications -> organisations (organisation_id));
diesel::joinable!(applications -> funding_lines (funding_line_code));
diesel::joinable!(application_comments -> applications (application_id));
diesel::allow_tables_to_appear_in_same_query!(applications, organisations);

diesel::table! {
    coordinators (id) {
        id -> Uuid,
        name -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        district_ags -> Text,
        employer_id -> Uuid,
        fte_bp -> Int4,
        start_date -> Date,
        end_date -> Nullable<Date>,
        status -> Text,
        funding_application_id -> Nullable<Uuid>,
        erased_at -> Nullable<Timestamptz>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        topics -> Array<Text>,
    }
}

diesel::table! {
    committees (id) {
        id -> Uuid,
        name -> Text,
        kind -> Text,
        owning_body -> Text,
        topics -> Array<Text>,
        coverage -> Text,
        coverage_versorgungsgebiet -> Nullable<Text>,
        coverage_districts -> Array<Text>,
        contact_name -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    committee_members (id) {
        id -> Uuid,
        committee_id -> Uuid,
        coordinator_id -> Nullable<Uuid>,
        external_name -> Nullable<Text>,
        external_organisation -> Nullable<Text>,
        external_email -> Nullable<Text>,
        role -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    committee_meetings (id) {
        id -> Uuid,
        committee_id -> Uuid,
        date -> Date,
        title -> Text,
        place -> Nullable<Text>,
        link -> Nullable<Text>,
        agenda -> Jsonb,
        created_at -> Timestamptz,
        attendance -> Jsonb,
        version -> Int8,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    referrals (id) {
        id -> Uuid,
        direction -> Text,
        origin_organisation_id -> Nullable<Uuid>,
        origin_district_ags -> Nullable<Text>,
        origin_committee_id -> Nullable<Uuid>,
        subject -> Text,
        description -> Text,
        topics -> Array<Text>,
        due_date -> Nullable<Date>,
        status -> Text,
        outcome -> Nullable<Text>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    referral_targets (id) {
        id -> Uuid,
        referral_id -> Uuid,
        committee_id -> Nullable<Uuid>,
        district_ags -> Nullable<Text>,
        state -> Text,
        answer -> Nullable<Text>,
        answered_at -> Nullable<Timestamptz>,
        answered_by -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(coordinators -> organisations (employer_id));
diesel::joinable!(committee_members -> committees (committee_id));
diesel::joinable!(committee_members -> coordinators (coordinator_id));
diesel::joinable!(committee_meetings -> committees (committee_id));
diesel::joinable!(referral_targets -> referrals (referral_id));
diesel::allow_tables_to_appear_in_same_query!(coordinators, organisations);
diesel::allow_tables_to_appear_in_same_query!(committee_members, coordinators);
diesel::allow_tables_to_appear_in_same_query!(referrals, referral_targets);

diesel::table! {
    events (id) {
        id -> Int8,
        position -> Nullable<Int8>,
        #[sql_name = "type"]
        event_type -> Text,
        resource_kind -> Text,
        resource_id -> Uuid,
        occurred_at -> Timestamptz,
        actor_sub -> Text,
        actor_role -> Text,
        actor_org_id -> Nullable<Uuid>,
        public -> Bool,
        org_ids -> Array<Uuid>,
        districts -> Array<Text>,
        staff_only -> Bool,
        data -> Jsonb,
        topics -> Array<Text>,
        about_districts -> Array<Text>,
        committee_ids -> Array<Uuid>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Uuid,
        owner_role -> Text,
        owner_org_id -> Nullable<Uuid>,
        owner_district_ags -> Nullable<Text>,
        created_by -> Text,
        url -> Text,
        event_types -> Array<Text>,
        secret -> Text,
        enabled -> Bool,
        consecutive_failures -> Int4,
        disabled_at -> Nullable<Timestamptz>,
        deleted_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        topics -> Array<Text>,
        districts -> Array<Text>,
        committee_ids -> Array<Uuid>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        webhook_id -> Uuid,
        event_id -> Int8,
        state -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        first_attempt_at -> Nullable<Timestamptz>,
        last_attempt_at -> Nullable<Timestamptz>,
        last_status -> Nullable<Int4>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhook_deliveries -> events (event_id));
diesel::allow_tables_to_appear_in_same_query!(webhook_deliveries, webhooks, events);

diesel::table! {
    funding_line_years (funding_line_code, year) {
        funding_line_code -> Text,
        year -> Int4,
        budget_cents -> Int8,
        committed_cents -> Int8,
        paid_cents -> Int8,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    grant_years (application_id, year) {
        application_id -> Uuid,
        year -> Int4,
        funding_line_code -> Text,
        committed_cents -> Int8,
        paid_cents -> Int8,
        approved_cents -> Int8,
    }
}

diesel::joinable!(funding_line_years -> funding_lines (funding_line_code));
diesel::joinable!(grant_years -> applications (application_id));

diesel::table! {
    grant_notices (id) {
        id -> Uuid,
        application_id -> Uuid,
        number -> Int4,
        status -> Text,
        organisation_id -> Uuid,
        district_ags -> Text,
        funding_line_code -> Text,
        amount_cents -> Int8,
        financing_type -> Text,
        rate_bp -> Int4,
        eligible_costs_cents -> Int8,
        purpose -> Text,
        period_start -> Date,
        period_end -> Date,
        lock_in_until -> Nullable<Date>,
        clause_set -> Text,
        excluded_clauses -> Array<Text>,
        conditions -> Array<Text>,
        legal_remedy -> Text,
        approved_by -> Text,
        issued_by -> Nullable<Text>,
        delivered_on -> Nullable<Date>,
        objection_waived_on -> Nullable<Date>,
        final_on -> Nullable<Date>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        amends -> Nullable<Uuid>,
        amendment_reason -> Nullable<Text>,
        file_number -> Text,
    }
}

diesel::joinable!(grant_notices -> organisations (organisation_id));
diesel::allow_tables_to_appear_in_same_query!(grant_notices, organisations);

diesel::table! {
    grant_notice_years (notice_id, year) {
        notice_id -> Uuid,
        year -> Int4,
        amount_cents -> Int8,
    }
}

diesel::joinable!(grant_notice_years -> grant_notices (notice_id));
diesel::allow_tables_to_appear_in_same_query!(grant_notice_years, grant_notices);
diesel::allow_tables_to_appear_in_same_query!(grant_notice_years, grant_years);

diesel::table! {
    payment_requests (id) {
        id -> Uuid,
        notice_id -> Uuid,
        application_id -> Uuid,
        organisation_id -> Uuid,
        district_ags -> Text,
        funding_line_code -> Text,
        fiscal_year -> Int4,
        amount_cents -> Int8,
        expenses -> Jsonb,
        status -> Text,
        checked_by -> Nullable<Text>,
        first_approval_by -> Nullable<Text>,
        approved_by -> Nullable<Text>,
        paid_on -> Nullable<Date>,
        cash_reference -> Nullable<Text>,
        reason -> Nullable<Text>,
        created_by -> Text,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(payment_requests -> organisations (organisation_id));
diesel::joinable!(payment_requests -> grant_notices (notice_id));
diesel::allow_tables_to_appear_in_same_query!(payment_requests, organisations);
diesel::allow_tables_to_appear_in_same_query!(payment_requests, grant_notices);

diesel::table! {
    proofs_of_use (id) {
        id -> Uuid,
        notice_id -> Uuid,
        application_id -> Uuid,
        organisation_id -> Uuid,
        district_ags -> Text,
        funding_line_code -> Text,
        kind -> Text,
        fiscal_year -> Nullable<Int4>,
        due_on -> Date,
        status -> Text,
        report -> Jsonb,
        income -> Jsonb,
        receipts -> Jsonb,
        content_signed_by -> Nullable<Text>,
        financial_signed_by -> Nullable<Text>,
        admitted_cents -> Nullable<Int8>,
        reason -> Nullable<Text>,
        submitted_at -> Nullable<Timestamptz>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(proofs_of_use -> organisations (organisation_id));
diesel::allow_tables_to_appear_in_same_query!(proofs_of_use, organisations);

diesel::table! {
    base_rates (valid_from) {
        valid_from -> Date,
        rate_bp -> Int4,
        version -> Int8,
        updated_at -> Timestamptz,
        source -> Text,
    }
}

diesel::table! {
    settlements (id) {
        id -> Uuid,
        notice_id -> Uuid,
        application_id -> Uuid,
        organisation_id -> Uuid,
        district_ags -> Text,
        funding_line_code -> Text,
        status -> Text,
        financing_type -> Text,
        granted_cents -> Int8,
        rate_bp -> Int4,
        planned_eligible_cents -> Int8,
        admitted_cents -> Int8,
        planned_other_income_cents -> Int8,
        actual_other_income_cents -> Int8,
        tolerance_bp -> Int4,
        eligible_cents -> Int8,
        not_eligible_cents -> Int8,
        due_cents -> Int8,
        reason -> Text,
        paid_cents -> Int8,
        released_cents -> Nullable<Int8>,
        proposed_by -> Text,
        confirmed_by -> Nullable<Text>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        late_use -> Jsonb,
        late_use_interest_cents -> Int8,
    }
}

diesel::joinable!(settlements -> organisations (organisation_id));
diesel::allow_tables_to_appear_in_same_query!(settlements, organisations);

// A view (migration 000014): every open duty with its due date.
diesel::table! {
    obligations (duty, resource_id) {
        duty -> Text,
        resource_kind -> Text,
        resource_id -> Uuid,
        organisation_id -> Nullable<Uuid>,
        district_ags -> Nullable<Text>,
        due_on -> Date,
        party -> Text,
    }
}

diesel::table! {
    obligation_reminders (duty, resource_id, due_on, stage) {
        duty -> Text,
        resource_id -> Uuid,
        due_on -> Date,
        stage -> Text,
        sent_at -> Timestamptz,
    }
}

diesel::table! {
    recovery_claims (id) {
        id -> Uuid,
        settlement_id -> Uuid,
        notice_id -> Uuid,
        application_id -> Uuid,
        organisation_id -> Uuid,
        district_ags -> Text,
        funding_line_code -> Text,
        status -> Text,
        principal_cents -> Int8,
        interest_from -> Date,
        interest_threshold_cents -> Int8,
        hearing_until -> Date,
        answer -> Nullable<Text>,
        answered_at -> Nullable<Timestamptz>,
        decided_by -> Nullable<Text>,
        decided_on -> Nullable<Date>,
        paid_on -> Nullable<Date>,
        interest_cents -> Nullable<Int8>,
        instalments -> Nullable<Int4>,
        first_instalment_on -> Nullable<Date>,
        reason -> Nullable<Text>,
        created_by -> Text,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        late_use_interest_cents -> Int8,
    }
}

diesel::joinable!(recovery_claims -> organisations (organisation_id));
diesel::allow_tables_to_appear_in_same_query!(recovery_claims, organisations);

diesel::table! {
    change_requests (id) {
        id -> Uuid,
        notice_id -> Uuid,
        application_id -> Uuid,
        organisation_id -> Uuid,
        district_ags -> Text,
        funding_line_code -> Text,
        kind -> Text,
        description -> Text,
        proposed_period_end -> Nullable<Date>,
        proposed_years -> Nullable<Jsonb>,
        status -> Text,
        decided_by -> Nullable<Text>,
        reason -> Nullable<Text>,
        amending_notice_id -> Nullable<Uuid>,
        created_by -> Text,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(change_requests -> organisations (organisation_id));
diesel::allow_tables_to_appear_in_same_query!(change_requests, organisations);

diesel::table! {
    early_start_consents (id) {
        id -> Uuid,
        application_id -> Uuid,
        organisation_id -> Uuid,
        district_ags -> Text,
        funding_line_code -> Text,
        start_on -> Date,
        reason -> Text,
        not_yet_begun -> Bool,
        requested_on -> Date,
        status -> Text,
        decided_by -> Nullable<Text>,
        decision_reason -> Nullable<Text>,
        created_by -> Text,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(early_start_consents -> organisations (organisation_id));
diesel::allow_tables_to_appear_in_same_query!(early_start_consents, organisations);

diesel::table! {
    attachments (id) {
        id -> Uuid,
        owner_kind -> Text,
        owner_id -> Uuid,
        organisation_id -> Nullable<Uuid>,
        category -> Text,
        receipt_index -> Nullable<Int4>,
        file_name -> Text,
        media_type -> Text,
        size_bytes -> Int8,
        sha256 -> Text,
        storage_key -> Text,
        scan_state -> Text,
        content_deleted -> Bool,
        internal -> Bool,
        uploaded_by -> Text,
        uploader_role -> Text,
        retain_until -> Nullable<Date>,
        version -> Int8,
        created_at -> Timestamptz,
        grant_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    topics (code) {
        code -> Text,
        title -> Text,
        parent -> Nullable<Text>,
        status -> Text,
        merged_into -> Nullable<Text>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}
