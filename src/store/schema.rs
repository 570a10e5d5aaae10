// The tables as Diesel sees them; both backends' migrations create exactly
// these columns.

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
        require_two_step -> Bool,
        disabled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    customers (organization_id, id) {
        organization_id -> Text,
        id -> Text,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        email -> Nullable<Text>,
        phone_number -> Nullable<Text>,
        language -> Nullable<Text>,
        address1 -> Nullable<Text>,
        address2 -> Nullable<Text>,
        city -> Nullable<Text>,
        region -> Nullable<Text>,
        zip -> Nullable<Text>,
        country -> Nullable<Text>,
        metadata -> Nullable<Text>,
        name_search -> Nullable<Text>,
        email_search -> Nullable<Text>,
        phone_search -> Nullable<Text>,
        revision -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        external_id -> Nullable<Text>,
        shipping_addresses -> Nullable<Text>,
        custom_fields -> Nullable<Text>,
        livemode -> Bool,
        erased_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(customers -> organizations (organization_id));

diesel::table! {
    customer_counts (organization_id, livemode, deleted, created_day, country, language) {
        organization_id -> Text,
        livemode -> Bool,
        deleted -> Bool,
        created_day -> Text,
        country -> Text,
        language -> Text,
        total -> BigInt,
    }
}

diesel::table! {
    customer_count_changes (organization_id, id) {
        organization_id -> Text,
        id -> Text,
        livemode -> Bool,
        deleted -> Bool,
        created_day -> Text,
        country -> Text,
        language -> Text,
        delta -> Integer,
    }
}

diesel::table! {
    api_keys (organization_id, id) {
        organization_id -> Text,
        id -> Text,
        name -> Nullable<Text>,
        scopes -> Text,
        secret_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        token_ref -> Nullable<Text>,
        livemode -> Bool,
        previous_secret_hash -> Nullable<Text>,
        previous_expires_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(api_keys -> organizations (organization_id));

diesel::table! {
    idempotency_keys (organization_id, livemode, key) {
        organization_id -> Text,
        key -> Text,
        fingerprint -> Text,
        status -> Integer,
        location -> Nullable<Text>,
        etag -> Nullable<Text>,
        body -> Nullable<Text>,
        created_at -> Timestamp,
        livemode -> Bool,
    }
}

diesel::joinable!(idempotency_keys -> organizations (organization_id));

diesel::table! {
    events (organization_id, id) {
        organization_id -> Text,
        id -> Text,
        sequence -> Nullable<BigInt>,
        #[sql_name = "type"]
        kind -> Text,
        customer_id -> Text,
        revision -> Integer,
        data -> Text,
        created_at -> Timestamp,
        livemode -> Bool,
    }
}

diesel::table! {
    webhook_endpoints (organization_id, id) {
        organization_id -> Text,
        id -> Text,
        url -> Text,
        events -> Text,
        description -> Nullable<Text>,
        enabled -> Bool,
        secret -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        livemode -> Bool,
        streamed_through -> BigInt,
        feed_head -> BigInt,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_deliveries (organization_id, endpoint_id, event_id) {
        organization_id -> Text,
        endpoint_id -> Text,
        event_id -> Text,
        customer_id -> Text,
        sequence -> BigInt,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (organization_id, endpoint_id, id) {
        organization_id -> Text,
        endpoint_id -> Text,
        id -> Text,
        event_id -> Text,
        attempt -> Integer,
        status -> Nullable<Integer>,
        error -> Nullable<Text>,
        duration_ms -> Integer,
        outcome -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    custom_fields (organization_id, name) {
        organization_id -> Text,
        name -> Text,
        #[sql_name = "type"]
        kind -> Text,
        max_length -> Nullable<Integer>,
        allowed_values -> Nullable<Text>,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    custom_field_values (organization_id, field, value, customer_id) {
        organization_id -> Text,
        field -> Text,
        value -> Text,
        customer_id -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        organization_id -> Nullable<Text>,
        email -> Text,
        email_search -> Text,
        role -> Text,
        password_hash -> Nullable<Text>,
        invite_hash -> Nullable<Text>,
        invite_expires_at -> Nullable<Timestamp>,
        totp_secret -> Nullable<Text>,
        totp_last_step -> Nullable<BigInt>,
        recovery_codes -> Nullable<Text>,
        joined_at -> Nullable<Timestamp>,
        disabled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        csrf -> Text,
        livemode -> Bool,
        pending -> Bool,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        viewing -> Nullable<Text>,
        changed_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(sessions -> users (user_id));

diesel::table! {
    audit_events (organization_id, id) {
        organization_id -> Text,
        id -> Text,
        action -> Text,
        actor_type -> Text,
        actor_id -> Nullable<Text>,
        actor_email -> Nullable<Text>,
        target_type -> Text,
        target_id -> Nullable<Text>,
        fields -> Nullable<Text>,
        request_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        livemode -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    imports (organization_id, id) {
        organization_id -> Text,
        id -> Text,
        livemode -> Bool,
        format -> Text,
        mode -> Text,
        dry_run -> Bool,
        status -> Text,
        failure -> Nullable<Text>,
        header -> Nullable<Text>,
        audit -> Text,
        size_bytes -> BigInt,
        rows_total -> BigInt,
        rows_done -> BigInt,
        created -> BigInt,
        updated -> BigInt,
        refused -> BigInt,
        resume_at -> BigInt,
        resume_row -> BigInt,
        leased_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    import_chunks (organization_id, import_id, seq) {
        organization_id -> Text,
        import_id -> Text,
        seq -> Integer,
        data -> Binary,
    }
}

diesel::table! {
    import_errors (organization_id, import_id, row_number) {
        organization_id -> Text,
        import_id -> Text,
        row_number -> BigInt,
        invalid_fields -> Text,
    }
}

diesel::table! {
    turns (organization_id, name) {
        organization_id -> Text,
        name -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    audit_events,
    organizations,
    customers,
    api_keys,
    idempotency_keys,
    events,
    webhook_endpoints,
    webhook_deliveries,
    webhook_attempts,
    custom_fields,
    custom_field_values,
    imports,
    import_chunks,
    import_errors,
    turns,
);
