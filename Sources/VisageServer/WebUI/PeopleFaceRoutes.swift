import Foundation
import Hummingbird
import VisageCore
import VisageMedia
import VisageStore

/// The People page's views of single faces: the faces in no person with the people they look
/// like, adding a face to a person, a photo with every face named, and the names and face crops
/// that the history and the re-clustering preview show in place of ids.
extension PeopleRoutes {
    /// Faces in no person, each with its nearest people; `Likely` marks a person near enough
    /// that clustering would have attached the face had it been sure.
    func unsorted(_ request: Request) async throws -> Response {
        let key = try await dataset(Self.query(request))
        let clusters = FigureClusterStore(store: store)
        let (faces, total) = try await clusters.unsortedFaces(dataset: key)
        let mentioned = Set(faces.flatMap { $0.suggestions.map(\.person) + $0.notPeople })
        let people = try await clusters.clusters(dataset: key, ids: Array(mentioned))
        let covers = try await clusters.covers(dataset: key, of: people)
        let byID = Dictionary(uniqueKeysWithValues: people.map { ($0.id, $0) })
        let crops = try await faceCrops(key, faces.map(\.figureID))
        // A little looser than attaching: a suggestion is a question to the user, not a placement.
        let likely = clustering.settings.attachThreshold * 1.1
        return UploadTokenRoutes.json(["Total": total, "Faces": faces.compactMap { face -> [String: any Sendable]? in
            guard let crop = crops[face.figureID] else { return nil }
            let suggestions = face.suggestions.compactMap { suggestion -> [String: any Sendable]? in
                guard let person = byID[suggestion.person] else { return nil }
                var body = Self.person(person, cover: covers[person.id])
                body["Distance"] = Double(suggestion.distance)
                body["Likely"] = suggestion.distance <= likely
                return body
            }
            return crop.merging([
                "FigureId": face.figureID, "QualityOK": face.qualityOK, "NeverPlaced": face.neverPlaced,
                "NotPeople": face.notPeople.map { ["ObjectId": $0, "Name": byID[$0]?.name ?? ""] },
                "Suggestions": suggestions,
            ]) { $1 }
        }])
    }

    /// "Cluster now": groups the dataset's waiting faces into people as a task the page follows.
    func clusterNow(_ request: Request) async throws -> Response {
        let body = try await Self.body(request)
        let task = try await clustering.submitClustering(dataset: try await dataset(body.compactMapValues(\.stringValue)))
        return UploadTokenRoutes.json(Self.progress(task), status: .accepted)
    }

    /// A clustering task's progress, and why it failed.
    func clusteringTask(_ request: Request, _ context: VisageContext) async throws -> Response {
        let task = try await clustering.task(dataset: try await dataset(Self.query(request)), id: try context.parameters.require("taskId"),
                                             kind: .clustering)
        var body = Self.progress(task)
        if task.status == .failed { body["Code"] = task.code; body["Message"] = task.message }
        return UploadTokenRoutes.json(body)
    }

    /// Puts a face into the person `To` by hand (or out of every person when `To` is empty).
    func moveFace(_ request: Request, _ context: VisageContext) async throws -> Response {
        let body = try await Self.body(request)
        let figureID = try context.parameters.require("figureId")
        guard let target = body["To"]?.stringValue else { throw Self.badRequest("To must name the person, or be empty for none.") }
        try await FigureClusterStore(store: store).move(dataset: try await dataset(body.compactMapValues(\.stringValue)),
                                                        figureID: figureID, to: target.isEmpty ? nil : target)
        return UploadTokenRoutes.json(["FigureId": figureID, "To": target])
    }

    /// A photo of the dataset with each face's box and the person it belongs to.
    func photoFaces(_ request: Request) async throws -> Response {
        let (key, _, document) = try await indexedPhoto(request)
        let figures = (document["Figures"]?.arrayValue ?? []).compactMap(\.objectValue)
        let ids = figures.compactMap { $0["FigureClusterId"]?.stringValue }.filter { $0 != ReservedCluster.independent }
        let names = Dictionary(uniqueKeysWithValues: try await FigureClusterStore(store: store)
            .clusters(dataset: key, ids: Array(Set(ids))).map { ($0.id, $0.name) })
        var body: [String: any Sendable] = [:]
        for field in ["URI", "ImageWidth", "ImageHeight"] { body[field] = document[field]?.any }
        body["Faces"] = figures.map { figure -> [String: any Sendable] in
            let person = figure["FigureClusterId"]?.stringValue.flatMap { names[$0] != nil ? $0 : nil }
            var face: [String: any Sendable] = ["FigureId": figure["FigureId"]?.stringValue ?? "",
                                                "Boundary": figure["Boundary"]?.any ?? [String: Int]()]
            if let person { face["ObjectId"] = person; face["Name"] = names[person] ?? "" }
            return face
        }
        return UploadTokenRoutes.json(body)
    }

    /// The crop (URI, photo size, box) of each face that still exists.
    func faceCrops(_ dataset: DatasetKey, _ figureIDs: [String]) async throws -> [String: [String: any Sendable]] {
        let files = try await FigureClusterStore(store: store).files(dataset: dataset, figureIDs: Array(Set(figureIDs)))
        let documents = try await FileIndex(store: store).documents(dataset: dataset, uris: Array(Set(files.values)))
        let byURI = Dictionary(documents.map { ($0["URI"]?.stringValue ?? "", $0) }) { first, _ in first }
        var crops: [String: [String: any Sendable]] = [:]
        for (figure, uri) in files { if let document = byURI[uri] { crops[figure] = Self.crop(document: document, figureID: figure) } }
        return crops
    }

    /// Each person's name and cover crop where the person still exists, for the ids `people`.
    func namesAndCovers(_ dataset: DatasetKey, _ people: Set<String>) async throws -> [String: [String: any Sendable]] {
        let clusters = FigureClusterStore(store: store)
        let found = try await clusters.clusters(dataset: dataset, ids: Array(people))
        let covers = try await clusters.covers(dataset: dataset, of: found)
        return Dictionary(uniqueKeysWithValues: found.map { ($0.id, Self.person($0, cover: covers[$0.id])) })
    }
}
