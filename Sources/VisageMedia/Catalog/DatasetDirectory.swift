import SQLKit
import VisageStore

extension DatasetCatalog {
    /// Every dataset of every account, ordered by account, project and name. For the operator's
    /// own views (the web UI on this machine); API callers list their own account's only.
    public func allDatasets() async throws -> [DatasetKey] {
        try await store.withConnection { db in
            try await db.raw("SELECT account_id, project, name FROM media_datasets ORDER BY account_id, project, name").all()
        }.map { row in
            DatasetKey(accountID: try row.decode(column: "account_id", as: String.self),
                       project: try row.decode(column: "project", as: String.self),
                       dataset: try row.decode(column: "name", as: String.self))
        }
    }
}
