//! The service unit's coordination tables: knowledge entries, action items, consultations, e-mail digests.

diesel::table! {
    knowledge_entries (id) {
        id -> Uuid,
        kind -> Text,
        title -> Text,
        body -> Text,
        topics -> Array<Text>,
        visibility -> Text,
        status -> Text,
        application_ids -> Array<Uuid>,
        review_due_on -> Nullable<Date>,
        proof_ids -> Array<Uuid>,
        author -> Text,
        published_at -> Nullable<Timestamptz>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    action_items (id) {
        id -> Uuid,
        meeting_id -> Uuid,
        committee_id -> Uuid,
        agenda_index -> Nullable<Int4>,
        title -> Text,
        description -> Text,
        assignee -> Text,
        assignee_organisation_id -> Nullable<Uuid>,
        assignee_committee_id -> Nullable<Uuid>,
        district_ags -> Nullable<Text>,
        due_on -> Date,
        status -> Text,
        note -> Nullable<Text>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    consultations (id) {
        id -> Uuid,
        organisation_id -> Uuid,
        district_ags -> Text,
        held_on -> Date,
        channel -> Text,
        topics -> Array<Text>,
        summary -> Text,
        internal_notes -> Text,
        follow_ups -> Jsonb,
        referral_ids -> Array<Uuid>,
        application_ids -> Array<Uuid>,
        author -> Text,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    digests (id) {
        id -> Uuid,
        owner_role -> Text,
        owner_org_id -> Nullable<Uuid>,
        created_by -> Text,
        email -> Text,
        frequency -> Text,
        event_types -> Array<Text>,
        topics -> Array<Text>,
        districts -> Array<Text>,
        committee_ids -> Array<Uuid>,
        last_position -> Int8,
        next_due_at -> Timestamptz,
        last_sent_at -> Nullable<Timestamptz>,
        deleted_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}
