import Foundation
import SQLKit
import VisageCore
import VisageStore
import VisageVision

extension FigureClusterStore {
    /// The people of every dataset of a project, as a collection 1:1 comparisons judge a pair
    /// against (`FaceComparison.score(_:_:amongPeople:)`): each person's best `facesPerPerson`
    /// faces, labelled by dataset and person, at most `maxFaces` in all (every person's best face
    /// first, then every person's second, and so on, so a large project keeps all its people and
    /// a request's memory stays bounded: 20,000 faces are about 10 MB). Empty when the project has
    /// no people yet.
    public func projectPeople(accountID: String, project: String, facesPerPerson: Int = 20, maxFaces: Int = 20_000) async throws
        -> Cohort
    {
        // Dataset keys are "account/project/dataset" and names hold no "/": the project's keys
        // are exactly those that begin with this prefix. The length is written into the SQL (an
        // integer computed here): PostgreSQL has no substr taking a bound 64-bit length.
        let prefix = "\(accountID)/\(project)/"
        let rows = try await store.withConnection { db in
            try await db.raw("""
                SELECT dataset_key, cluster_id, embedding FROM (
                    SELECT dataset_key, cluster_id, embedding,
                        ROW_NUMBER() OVER (PARTITION BY dataset_key, cluster_id ORDER BY quality DESC, figure_id) AS place
                    FROM media_faces
                    WHERE substr(dataset_key, 1, \(unsafeRaw: String(prefix.unicodeScalars.count))) = \(bind: prefix)
                        AND cluster_id IS NOT NULL AND cluster_id <> \(bind: ReservedCluster.independent)
                ) ranked WHERE place <= \(bind: facesPerPerson)
                ORDER BY place, dataset_key, cluster_id LIMIT \(bind: maxFaces)
                """).all()
        }
        return Cohort(try rows.map { row in
            ("\(try row.decode(column: "dataset_key", as: String.self)) \(try row.decode(column: "cluster_id", as: String.self))",
             try Self.vector(row))
        })
    }
}
