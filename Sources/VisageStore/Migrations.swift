import Foundation
import SQLKit
import VisageCore

/// One schema change. Statements are plain SQL; `{key}` expands to a byte-ordered text column
/// type, which the two engines spell differently (object keys must sort by UTF-8 bytes, as
/// object listings require, whatever the server's locale).
struct Migration: Sendable {
    let version: Int
    let name: String
    let statements: [String]
}

/// The schema, oldest first. Never edit a released migration: add a new one.
let schemaMigrations: [Migration] = [
    Migration(version: 1, name: "accounts, access keys, buckets, objects, tasks", statements: [
        """
        CREATE TABLE accounts (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE access_keys (
            id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL REFERENCES accounts(id),
            principal TEXT NOT NULL,
            secret_sealed TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX access_keys_principal ON access_keys (account_id, principal)",
        """
        CREATE TABLE buckets (
            name TEXT PRIMARY KEY,
            owner_account TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE objects (
            bucket TEXT NOT NULL REFERENCES buckets(name),
            object_key {key} NOT NULL,
            blob_id TEXT NOT NULL,
            size BIGINT NOT NULL,
            etag TEXT NOT NULL,
            content_type TEXT NOT NULL,
            user_metadata TEXT NOT NULL,
            last_modified BIGINT NOT NULL,
            PRIMARY KEY (bucket, object_key)
        )
        """,
        "CREATE INDEX objects_blob ON objects (blob_id)",
        """
        CREATE TABLE tasks (
            id TEXT PRIMARY KEY,
            queue TEXT NOT NULL,
            payload TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            max_attempts INTEGER NOT NULL,
            run_after BIGINT NOT NULL,
            lease_owner TEXT,
            lease_expires BIGINT,
            progress DOUBLE PRECISION NOT NULL,
            last_error TEXT,
            result TEXT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX tasks_ready ON tasks (queue, status, run_after)",
    ]),
    Migration(version: 2, name: "users, roles, policies, attachments, signature nonces", statements: [
        """
        CREATE TABLE ram_users (
            account_id TEXT NOT NULL REFERENCES accounts(id),
            name TEXT NOT NULL,
            id TEXT NOT NULL,
            display_name TEXT NOT NULL,
            comments TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (account_id, name)
        )
        """,
        """
        CREATE TABLE ram_roles (
            account_id TEXT NOT NULL REFERENCES accounts(id),
            name_key TEXT NOT NULL,
            name TEXT NOT NULL,
            id TEXT NOT NULL,
            trust_policy TEXT NOT NULL,
            description TEXT NOT NULL,
            max_session_duration INTEGER NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (account_id, name_key)
        )
        """,
        """
        CREATE TABLE ram_policies (
            account_id TEXT NOT NULL REFERENCES accounts(id),
            name TEXT NOT NULL,
            document TEXT NOT NULL,
            description TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (account_id, name)
        )
        """,
        """
        CREATE TABLE ram_attachments (
            account_id TEXT NOT NULL REFERENCES accounts(id),
            principal_type TEXT NOT NULL,
            principal_name TEXT NOT NULL,
            policy_type TEXT NOT NULL,
            policy_name TEXT NOT NULL,
            attached_at BIGINT NOT NULL,
            PRIMARY KEY (account_id, principal_type, principal_name, policy_type, policy_name)
        )
        """,
        "CREATE INDEX ram_attachments_policy ON ram_attachments (account_id, policy_type, policy_name)",
        """
        CREATE TABLE signature_nonces (
            nonce TEXT PRIMARY KEY,
            expires_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX signature_nonces_expiry ON signature_nonces (expires_at)",
    ]),
    Migration(version: 3, name: "media projects", statements: [
        """
        CREATE TABLE media_projects (
            account_id TEXT NOT NULL REFERENCES accounts(id),
            name TEXT NOT NULL,
            description TEXT NOT NULL,
            service_role TEXT NOT NULL,
            template_id TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (account_id, name)
        )
        """,
    ]),
    Migration(version: 4, name: "bucket CORS rules, multipart uploads", statements: [
        "ALTER TABLE buckets ADD COLUMN cors TEXT",
        """
        CREATE TABLE multipart_uploads (
            upload_id TEXT PRIMARY KEY,
            bucket TEXT NOT NULL REFERENCES buckets(name),
            object_key {key} NOT NULL,
            content_type TEXT NOT NULL,
            user_metadata TEXT NOT NULL,
            initiated_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE multipart_parts (
            upload_id TEXT NOT NULL REFERENCES multipart_uploads(upload_id),
            part_number INTEGER NOT NULL,
            blob_id TEXT NOT NULL,
            size BIGINT NOT NULL,
            etag TEXT NOT NULL,
            last_modified BIGINT NOT NULL,
            PRIMARY KEY (upload_id, part_number)
        )
        """,
        "CREATE INDEX multipart_parts_blob ON multipart_parts (blob_id)",
    ]),
    Migration(version: 5, name: "datasets, file metadata and its field index, faces, media tasks", statements: [
        """
        CREATE TABLE media_datasets (
            account_id TEXT NOT NULL,
            project TEXT NOT NULL,
            name TEXT NOT NULL,
            description TEXT NOT NULL,
            template_id TEXT NOT NULL,
            max_bind_count INTEGER NOT NULL,
            max_file_count BIGINT NOT NULL,
            workflow_parameters TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (account_id, project, name)
        )
        """,
        """
        CREATE TABLE media_files (
            id TEXT PRIMARY KEY,
            dataset_key TEXT NOT NULL,
            uri {key} NOT NULL,
            size BIGINT NOT NULL,
            document TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX media_files_uri ON media_files (dataset_key, uri)",
        """
        CREATE TABLE media_file_fields (
            file_id TEXT NOT NULL,
            dataset_key TEXT NOT NULL,
            path TEXT NOT NULL,
            element INTEGER NOT NULL,
            text_value {key},
            number_value DOUBLE PRECISION
        )
        """,
        "CREATE INDEX media_file_fields_text ON media_file_fields (dataset_key, path, text_value)",
        "CREATE INDEX media_file_fields_number ON media_file_fields (dataset_key, path, number_value)",
        "CREATE INDEX media_file_fields_file ON media_file_fields (file_id, path)",
        """
        CREATE TABLE media_faces (
            figure_id TEXT PRIMARY KEY,
            dataset_key TEXT NOT NULL,
            file_id TEXT NOT NULL,
            embedding {blob} NOT NULL,
            quality_ok INTEGER NOT NULL,
            cluster_id TEXT
        )
        """,
        "CREATE INDEX media_faces_file ON media_faces (file_id)",
        "CREATE INDEX media_faces_dataset ON media_faces (dataset_key, cluster_id)",
        """
        CREATE TABLE media_tasks (
            id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            project TEXT NOT NULL,
            dataset TEXT NOT NULL,
            task_type TEXT NOT NULL,
            event_id TEXT NOT NULL,
            status TEXT NOT NULL,
            code TEXT NOT NULL,
            message TEXT NOT NULL,
            progress INTEGER NOT NULL,
            user_data TEXT NOT NULL,
            tags TEXT NOT NULL,
            notification TEXT NOT NULL,
            request_definition TEXT NOT NULL,
            request_id TEXT NOT NULL,
            started_at BIGINT NOT NULL,
            ended_at BIGINT
        )
        """,
        "CREATE INDEX media_tasks_project ON media_tasks (account_id, project, id)",
        """
        CREATE TABLE media_task_files (
            task_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            uri TEXT NOT NULL,
            input TEXT NOT NULL,
            status TEXT NOT NULL,
            error TEXT NOT NULL,
            PRIMARY KEY (task_id, seq)
        )
        """,
    ]),
    Migration(version: 6, name: "object change log, dataset bindings", statements: [
        """
        CREATE TABLE object_changes (
            seq {serial},
            bucket TEXT NOT NULL,
            object_key {key} NOT NULL,
            change TEXT NOT NULL,
            changed_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX object_changes_bucket ON object_changes (bucket, seq)",
        """
        CREATE TABLE media_bindings (
            account_id TEXT NOT NULL,
            project TEXT NOT NULL,
            dataset TEXT NOT NULL,
            uri TEXT NOT NULL,
            bucket TEXT NOT NULL,
            prefix {key} NOT NULL,
            change_cursor BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (account_id, project, dataset, uri)
        )
        """,
    ]),
    Migration(version: 7, name: "figure clusters (people)", statements: [
        "ALTER TABLE media_faces ADD COLUMN quality DOUBLE PRECISION",
        "ALTER TABLE media_faces ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0",
        """
        CREATE TABLE media_clusters (
            dataset_key TEXT NOT NULL,
            cluster_id TEXT NOT NULL,
            number BIGINT NOT NULL,
            name TEXT NOT NULL,
            custom_labels TEXT NOT NULL,
            cover_figure_id TEXT,
            cover_pinned INTEGER NOT NULL,
            image_count BIGINT NOT NULL,
            face_count BIGINT NOT NULL,
            lock_version BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (dataset_key, cluster_id)
        )
        """,
        "CREATE INDEX media_clusters_number ON media_clusters (dataset_key, number)",
    ]),
    Migration(version: 8, name: "people constraints", statements: [
        // Facts users state about people that every clustering run obeys ("not-person": the
        // face `subject` never joins the person `other`).
        """
        CREATE TABLE media_cluster_constraints (
            dataset_key TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            other TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (dataset_key, kind, subject, other)
        )
        """,
        // The highest person number a dataset has used, so a merged-away person's id is never reused.
        """
        CREATE TABLE media_cluster_numbers (
            dataset_key TEXT NOT NULL PRIMARY KEY,
            last_number BIGINT NOT NULL
        )
        """,
    ]),
    Migration(version: 9, name: "people history", statements: [
        // Every edit of a dataset's people, with what undoing it needs (JSON).
        """
        CREATE TABLE media_cluster_history (
            dataset_key TEXT NOT NULL,
            sequence BIGINT NOT NULL,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            undone INTEGER NOT NULL,
            PRIMARY KEY (dataset_key, sequence)
        )
        """,
    ]),
    Migration(version: 10, name: "task results", statements: [
        // What a task produced that its caller reads back (a re-clustering's preview, as JSON).
        "ALTER TABLE media_tasks ADD COLUMN result TEXT NOT NULL DEFAULT ''",
    ]),
    Migration(version: 11, name: "object checksums, access rules and tags; listing unfinished uploads", statements: [
        // CRC-64 as its two's-complement bit pattern (BIGINT is signed); NULL for older objects.
        "ALTER TABLE objects ADD COLUMN crc64 BIGINT",
        "ALTER TABLE objects ADD COLUMN acl TEXT",
        "ALTER TABLE objects ADD COLUMN tags TEXT",
        "ALTER TABLE multipart_parts ADD COLUMN crc64 BIGINT",
        "ALTER TABLE multipart_uploads ADD COLUMN acl TEXT",
        "ALTER TABLE multipart_uploads ADD COLUMN tags TEXT",
        "ALTER TABLE buckets ADD COLUMN acl TEXT",
        "CREATE INDEX multipart_uploads_key ON multipart_uploads (bucket, object_key, upload_id)",
    ]),
    Migration(version: 12, name: "face comparisons", statements: [
        // One asynchronous 1:1 comparison. `origin` names the dialect that took it (it renders the
        // result and the callback); `reference` is what that dialect echoes back (opaque here).
        """
        CREATE TABLE face_comparisons (
            id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            origin TEXT NOT NULL,
            reference TEXT NOT NULL,
            first_source TEXT NOT NULL,
            second_source TEXT NOT NULL,
            callback_url TEXT,
            callback_data TEXT NOT NULL,
            status TEXT NOT NULL,
            outcome TEXT NOT NULL,
            request_id TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            finished_at BIGINT,
            expires_at BIGINT
        )
        """,
        "CREATE INDEX face_comparisons_account ON face_comparisons (account_id, created_at)",
        "CREATE INDEX face_comparisons_created ON face_comparisons (created_at)",
    ]),
    Migration(version: 13, name: "additional object checksums", statements: [
        // The checksum a writer sent and its dialect verified (`algorithm:digest`); NULL when none.
        "ALTER TABLE objects ADD COLUMN checksum TEXT",
    ]),
    Migration(version: 14, name: "moderation reviews", statements: [
        // A human review of one moderated image: the machine's labels (JSON), the image itself
        // (a reviewer must see it; it may have come as bytes only), and what the dialect that
        // started it echoes back (`reference`, opaque here). Names are unique per account.
        """
        CREATE TABLE moderation_reviews (
            id {key} PRIMARY KEY,
            account_id {key} NOT NULL,
            name {key} NOT NULL,
            flow TEXT NOT NULL,
            origin TEXT NOT NULL,
            reference TEXT NOT NULL,
            status TEXT NOT NULL,
            labels TEXT NOT NULL,
            image {blob} NOT NULL,
            image_format TEXT NOT NULL,
            request_id TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            completed_at BIGINT,
            UNIQUE (account_id, name)
        )
        """,
        "CREATE INDEX moderation_reviews_status ON moderation_reviews (status, created_at)",
        // Every decision a reviewer made, in order: the latest per label counts, all are history.
        """
        CREATE TABLE moderation_review_decisions (
            id {serial},
            review_id {key} NOT NULL,
            category TEXT NOT NULL,
            verdict TEXT NOT NULL,
            reviewer TEXT NOT NULL,
            decided_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX moderation_review_decisions_review ON moderation_review_decisions (review_id, id)",
    ]),
    // Self-contained (creates only its own tables), so it can take another number at a merge.
    Migration(version: 15, name: "API keys and liveness sessions", statements: [
        // Keys presented whole in a header (no signature); found by a hash of the key, whose
        // plain text is sealed like an access key secret.
        """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL REFERENCES accounts(id),
            principal TEXT NOT NULL,
            service TEXT NOT NULL,
            key_sealed TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX api_keys_principal ON api_keys (account_id, principal)",
        // One liveness session. `options` is what the requesting dialect echoes back (opaque
        // here); the verify reference holds the reference face's facts and embedding as JSON.
        """
        CREATE TABLE liveness_sessions (
            id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            options TEXT NOT NULL,
            device_id TEXT,
            token_seconds INTEGER NOT NULL,
            send_results INTEGER NOT NULL,
            verify_threshold DOUBLE PRECISION,
            verify_reference TEXT,
            attempts INTEGER NOT NULL,
            challenge TEXT,
            status TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            started_at BIGINT,
            token_expires_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            deleted_at BIGINT
        )
        """,
        "CREATE INDEX liveness_sessions_account ON liveness_sessions (account_id, kind, id)",
        "CREATE INDEX liveness_sessions_device ON liveness_sessions (account_id, device_id, created_at)",
        // Every client call of a session, accepted or refused, numbered from 1 within it.
        """
        CREATE TABLE liveness_audit (
            session_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            entry TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (session_id, seq)
        )
        """,
    ]),
]

extension MetadataStore {
    /// The schema version this build migrates to.
    public static let currentSchemaVersion = schemaMigrations.last!.version
}

/// Applies pending migrations, each in its own transaction, recording them in `schema_migrations`.
struct Migrator {
    let store: MetadataStore

    func migrate(_ migrations: [Migration] = schemaMigrations) async throws {
        let kind = store.kind
        try await store.withConnection { db in
            try await db.raw("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)
                """).run()
        }
        for migration in migrations {
            try await store.withTransaction { db in
                if kind == .postgres {
                    // Two processes starting at once must not both apply the same migration.
                    try await db.raw("SELECT pg_advisory_xact_lock(7356924)").run()
                }
                let applied = try await db.raw(
                    "SELECT version FROM schema_migrations WHERE version = \(bind: migration.version)").first()
                guard applied == nil else { return }
                for statement in migration.statements {
                    try await db.raw(SQLQueryString(Self.expand(statement, for: kind))).run()
                }
                try await db.raw("""
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: WallClock.nowMillis()))
                    """).run()
            }
        }
    }

    static func expand(_ statement: String, for kind: SQLEngineKind) -> String {
        let keyType = kind == .postgres ? "TEXT COLLATE \"C\"" : "TEXT COLLATE BINARY"
        let blobType = kind == .postgres ? "BYTEA" : "BLOB"
        let serialType = kind == .postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
        return statement.replacingOccurrences(of: "{key}", with: keyType).replacingOccurrences(of: "{blob}", with: blobType)
            .replacingOccurrences(of: "{serial}", with: serialType)
    }

}

extension MetadataStore {
    /// The highest applied schema version.
    public func schemaVersion() async throws -> Int {
        try await withConnection { db in
            let row = try await db.raw("SELECT MAX(version) AS v FROM schema_migrations").first()
            return try row?.decode(column: "v", as: Int?.self) ?? 0
        }
    }
}
