//! Diesel table definitions, kept by hand in step with `migrations/` (a test compares them with the database).

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
    }
}

diesel::joinable!(organisations -> districts (district_ags));
