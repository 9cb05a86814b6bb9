import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VisageCore
import VisageMedia
import VisageStore

/// `/visage/v1/people/...`: the web UI's People page. Lists the people of a dataset with their
/// faces and photos, and applies the user's corrections (rename, merge, "not this person")
/// through `FigureClusterStore`, the same path IMM's calls take. It shows every account's photos
/// without a signature, so it answers callers on this machine only.
struct PeopleRoutes {
    let store: MetadataStore
    let objects: any ObjectStore
    let clustering: FigureClustering

    func add(to router: Router<VisageContext>) {
        let people = router.group("visage/v1/people").add(middleware: LoopbackOnly())
        people.get("datasets") { _, _ -> Response in try await datasets() }
        people.get { request, _ -> Response in try await list(request) }
        people.get("photo") { request, _ -> Response in try await photo(request) }
        people.get(":id/faces") { request, context -> Response in try await faces(request, context) }
        people.post(":id/name") { request, context -> Response in try await rename(request, context) }
        people.post(":id/merge") { request, context -> Response in try await merge(request, context) }
        people.get(":id/split-proposal") { request, context -> Response in try await splitProposal(request, context) }
        people.post(":id/split") { request, context -> Response in try await split(request, context) }
        people.get("history") { request, _ -> Response in try await history(request) }
        people.post("history/undo") { request, _ -> Response in try await undo(request) }
        people.post("faces/:figureId/different") { request, context -> Response in try await differentFaces(request, context) }
        people.post("faces/:figureId/confirm") { request, context -> Response in try await confirm(request, context) }
        people.post(":id/different") { request, context -> Response in try await differentPeople(request, context) }
        people.post("recluster") { request, _ -> Response in try await recluster(request) }
        people.get("recluster/:taskId") { request, context -> Response in try await reclusterTask(request, context) }
        people.post("faces/:figureId/remove") { request, context -> Response in try await removeFace(request, context) }
        people.post("faces/:figureId/move") { request, context -> Response in try await moveFace(request, context) }
        people.get("unsorted") { request, _ -> Response in try await unsorted(request) }
        people.post("cluster") { request, _ -> Response in try await clusterNow(request) }
        people.get("cluster/:taskId") { request, context -> Response in try await clusteringTask(request, context) }
        people.get("photo/faces") { request, _ -> Response in try await photoFaces(request) }
    }

    // MARK: People and their faces

    /// Every dataset with its counts, for the page's dataset picker (which opens on one with faces).
    func datasets() async throws -> Response {
        UploadTokenRoutes.json(["Datasets": try await DatasetCatalog(store: store).summaries().map(OverviewRoutes.dataset)])
    }

    /// The dataset's people, most photographed first, with their covers.
    func list(_ request: Request) async throws -> Response {
        let key = try await dataset(Self.query(request))
        var listing = ClusterListing()
        listing.sort = .imageCount
        listing.descending = true
        listing.limit = .max  // the page shows everyone at once
        let clusters = FigureClusterStore(store: store)
        let found = try await clusters.clusters(dataset: key, listing).clusters
        let covers = try await clusters.covers(dataset: key, of: found)
        return UploadTokenRoutes.json(["People": found.map { Self.person($0, cover: covers[$0.id]) }])
    }

    /// A person's faces, each with what the page needs to cut it out of its photo.
    func faces(_ request: Request, _ context: VisageContext) async throws -> Response {
        let key = try await dataset(Self.query(request))
        let id = try context.parameters.require("id")
        let clusters = FigureClusterStore(store: store)
        _ = try await clusters.cluster(dataset: key, id: id)  // an unknown person is a 404, not an empty list
        let faces = try await clusters.faces(dataset: key, cluster: id)
        let documents = try await FileIndex(store: store).documents(dataset: key, uris: Array(Set(faces.map(\.uri))))
        let byURI = Dictionary(documents.map { ($0["URI"]?.stringValue ?? "", $0) }) { first, _ in first }
        return UploadTokenRoutes.json(["Faces": faces.compactMap { face -> [String: any Sendable]? in
            guard let document = byURI[face.uri] else { return nil }
            // Confirmed: placed by a user, so no run moves it.
            return Self.crop(document: document, figureID: face.figureID)
                .merging(["FigureId": face.figureID, "Confirmed": face.pinned]) { $1 }
        }])
    }

    /// The faces Visage would split off a person.
    func splitProposal(_ request: Request, _ context: VisageContext) async throws -> Response {
        let key = try await dataset(Self.query(request))
        let id = try context.parameters.require("id")
        let clusters = FigureClusterStore(store: store)
        _ = try await clusters.cluster(dataset: key, id: id)
        return UploadTokenRoutes.json(["ObjectId": id, "Faces": try await clusters.proposeSplit(dataset: key, cluster: id)])
    }

    // MARK: Corrections

    /// Names a person.
    func rename(_ request: Request, _ context: VisageContext) async throws -> Response {
        let body = try await Self.body(request)
        guard let name = body["Name"]?.stringValue, name.utf8.count <= 256 else {
            throw Self.badRequest("Name must be a string of at most 256 bytes.")
        }
        let id = try context.parameters.require("id")
        try await FigureClusterStore(store: store).update(dataset: try await dataset(body.compactMapValues(\.stringValue)), id: id,
                                                          ClusterChanges(name: name))
        return UploadTokenRoutes.json(["ObjectId": id, "Name": name])
    }

    /// Merges the person `From` into this one.
    func merge(_ request: Request, _ context: VisageContext) async throws -> Response {
        let body = try await Self.body(request)
        let id = try context.parameters.require("id")
        guard let source = body["From"]?.stringValue, !source.isEmpty else {
            throw Self.badRequest("From must name the person to merge.")
        }
        // The store skips a source equal to the target silently; the page should never ask for it.
        guard source != id else { throw Self.badRequest("A person cannot be merged into itself.") }
        let moved = try await FigureClusterStore(store: store).merge(
            dataset: try await dataset(body.compactMapValues(\.stringValue)), into: id, from: [source])
        return UploadTokenRoutes.json(["ObjectId": id, "MovedFaces": moved])
    }

    /// Splits the chosen `Faces` off a person into a new one.
    func split(_ request: Request, _ context: VisageContext) async throws -> Response {
        let body = try await Self.body(request)
        let id = try context.parameters.require("id")
        guard let faces = body["Faces"]?.arrayValue?.map(\.stringValue), !faces.isEmpty, faces.count <= 1000,
              case let ids = faces.compactMap({ $0 }), ids.count == faces.count
        else { throw Self.badRequest("Faces must list the ids of the faces to split off (1 to 1000).") }
        let created = try await FigureClusterStore(store: store).split(
            dataset: try await dataset(body.compactMapValues(\.stringValue)), cluster: id, figureIDs: ids)
        return UploadTokenRoutes.json(["ObjectId": created, "From": id, "MovedFaces": Set(ids).count])
    }

    /// "These two are different" for a face and the face `Other`.
    func differentFaces(_ request: Request, _ context: VisageContext) async throws -> Response {
        let body = try await Self.body(request)
        let figureID = try context.parameters.require("figureId")
        guard let other = body["Other"]?.stringValue, !other.isEmpty else { throw Self.badRequest("Other must name the other face.") }
        try await FigureClusterStore(store: store).separate(dataset: try await dataset(body.compactMapValues(\.stringValue)),
                                                            figureID: figureID, from: other)
        return UploadTokenRoutes.json(["FigureId": figureID, "Other": other])
    }

    /// "This is them": keeps a face in the person it is in.
    func confirm(_ request: Request, _ context: VisageContext) async throws -> Response {
        let body = try await Self.body(request)
        let figureID = try context.parameters.require("figureId")
        try await FigureClusterStore(store: store).confirm(dataset: try await dataset(body.compactMapValues(\.stringValue)),
                                                           figureID: figureID)
        return UploadTokenRoutes.json(["FigureId": figureID, "Confirmed": true])
    }

    /// "These two are different" for a person and the person `Other`.
    func differentPeople(_ request: Request, _ context: VisageContext) async throws -> Response {
        let body = try await Self.body(request)
        let id = try context.parameters.require("id")
        guard let other = body["Other"]?.stringValue, !other.isEmpty else { throw Self.badRequest("Other must name the other person.") }
        try await FigureClusterStore(store: store).distinguish(dataset: try await dataset(body.compactMapValues(\.stringValue)),
                                                               person: id, from: other)
        return UploadTokenRoutes.json(["ObjectId": id, "Other": other])
    }

    /// "Not this person": takes a face out of its person for good.
    func removeFace(_ request: Request, _ context: VisageContext) async throws -> Response {
        let body = try await Self.body(request)
        let figureID = try context.parameters.require("figureId")
        // "Not this person": recorded, so no later run puts the face back there.
        let person = try await FigureClusterStore(store: store).exclude(
            dataset: try await dataset(body.compactMapValues(\.stringValue)), figureID: figureID)
        return UploadTokenRoutes.json(["FigureId": figureID, "FigureClusterId": ReservedCluster.independent, "NotPerson": person])
    }

    // MARK: History

    /// The dataset's edits, newest first.
    func history(_ request: Request) async throws -> Response {
        let key = try await dataset(Self.query(request))
        let entries = try await FigureClusterStore(store: store).history(dataset: key)
        // The people and faces the edits name, so the page shows names and faces, not ids.
        let people = Set(entries.flatMap { [$0.edit.person, $0.edit.faceTo, $0.edit.other].compactMap { $0 } + $0.edit.parts.map(\.id) })
        let faces = entries.flatMap { entry in
            [entry.edit.face, entry.edit.kind == .apartFaces ? entry.edit.other : nil].compactMap { $0 }
        }
        return UploadTokenRoutes.json(["Edits": entries.map(Self.edit), "People": try await namesAndCovers(key, people),
                                       "Faces": try await faceCrops(key, faces)])
    }

    /// Undoes the newest edit, or the one numbered `Sequence`.
    func undo(_ request: Request) async throws -> Response {
        let body = try await Self.body(request)
        var sequence: Int64?
        if let given = body["Sequence"] {
            guard let number = given.numberValue, number == number.rounded(), number >= 1 else {
                throw Self.badRequest("Sequence must be the number of an edit.")
            }
            sequence = Int64(number)
        }
        let undone = try await FigureClusterStore(store: store).undo(
            dataset: try await dataset(body.compactMapValues(\.stringValue)), sequence: sequence)
        return UploadTokenRoutes.json(["Undone": Self.edit(undone)])
    }

    // MARK: Re-clustering

    /// Starts a re-clustering with the request's settings: a preview unless `DryRun` is false.
    func recluster(_ request: Request) async throws -> Response {
        let body = try await Self.body(request)
        let settings = try Self.settings(body, base: clustering.settings)
        let apply = try Self.applies(body)
        let task = try await clustering.submitRecluster(dataset: try await dataset(body.compactMapValues(\.stringValue)),
                                                        settings: settings, apply: apply)
        return UploadTokenRoutes.json(Self.progress(task), status: .accepted)
    }

    /// A re-clustering's progress, and its preview once it is done.
    func reclusterTask(_ request: Request, _ context: VisageContext) async throws -> Response {
        let found = try await clustering.reclusterTask(dataset: try await dataset(Self.query(request)),
                                                       id: try context.parameters.require("taskId"))
        var body = Self.progress(found.task)
        if found.task.status == .failed { body["Code"] = found.task.code; body["Message"] = found.task.message }
        if let preview = found.preview {
            body.merge(Self.preview(preview)) { _, new in new }
            let mentioned = Set(preview.changes.flatMap { [$0.person] + $0.into })
            body["People"] = try await namesAndCovers(try await dataset(Self.query(request)), mentioned)
        }
        return UploadTokenRoutes.json(body)
    }

    /// The bytes of a photo indexed in the dataset; other objects are not served, so the page
    /// cannot be used to read arbitrary objects.
    func photo(_ request: Request) async throws -> Response {
        let (_, uri, document) = try await indexedPhoto(request)
        let (bucket, objectKey) = try ServiceRoleAccess.ossURI(uri, field: "uri")
        let read = try await objects.getObject(bucket: bucket, key: objectKey, range: nil)
        // Only an image type is passed on: an uploader-chosen text/html served from the UI's
        // origin would run as the UI.
        let type = [read.info.contentType, document["ContentType"]?.stringValue ?? ""]
            .first { $0.hasPrefix("image/") && !$0.contains("svg") } ?? "application/octet-stream"
        return Response(status: .ok,
                        headers: [.contentType: type, .contentLength: String(read.contentLength), .cacheControl: "private, max-age=300",
                                  HTTPField.Name("X-Content-Type-Options")!: "nosniff"],
                        body: ResponseBody(asyncSequence: read.body.map { ByteBuffer(bytes: $0) }))
    }

    /// The dataset and the indexed file named by the request's `uri`: 400 without one, 404 when
    /// the dataset holds no such file.
    func indexedPhoto(_ request: Request) async throws -> (DatasetKey, String, [String: JSONValue]) {
        let parameters = Self.query(request)
        let key = try await dataset(parameters)
        guard let uri = parameters["uri"], !uri.isEmpty else { throw Self.badRequest("uri is required.") }
        guard let document = try await FileIndex(store: store).document(dataset: key, uri: uri) else {
            throw VisageError.notFound(kind: .file, name: uri)
        }
        return (key, uri, document)
    }

    /// The dataset named by `account`, `project` and `dataset`: 400 when one is missing, 404 when it does not exist.
    func dataset(_ parameters: [String: String]) async throws -> DatasetKey {
        let names = ["account", "project", "dataset"].map { parameters[$0] ?? "" }
        if let missing = zip(["account", "project", "dataset"], names).first(where: { $0.1.isEmpty }) {
            throw Self.badRequest("\(missing.0) is required.")
        }
        return try await DatasetCatalog(store: store).dataset(account: names[0], project: names[1], name: names[2]).key
    }

    /// An edit of the history as the page shows it.
    static func edit(_ entry: PeopleHistoryEntry) -> [String: any Sendable] {
        var body: [String: any Sendable] = ["Sequence": entry.sequence, "Kind": entry.edit.kind.rawValue, "Person": entry.edit.person,
                                            "Others": entry.edit.parts.map(\.id), "OtherNames": entry.edit.parts.map(\.name),
                                            "Created": entry.created, "Undone": entry.undone]
        if let face = entry.edit.face { body["FigureId"] = face }
        if let to = entry.edit.faceTo { body["To"] = to }
        if let other = entry.edit.other { body["Other"] = other }
        if let name = entry.edit.nameBefore { body["NameBefore"] = name }
        return body
    }

    /// Whether a re-clustering is to be written (`DryRun` false) rather than previewed (true, the default).
    static func applies(_ body: [String: JSONValue]) throws -> Bool {
        guard body["DryRun"].map({ $0.boolValue != nil }) ?? true else { throw badRequest("DryRun must be true or false.") }
        return !(body["DryRun"]?.boolValue ?? true)
    }

    /// A task as the page follows it.
    static func progress(_ task: MediaTask) -> [String: any Sendable] {
        ["TaskId": task.id, "Status": task.status.rawValue, "Progress": task.progress]
    }

    /// Clustering settings with the request's `Threshold`, `AttachThreshold`, `Looseness` and
    /// `Neighbours` where given, each checked against a sensible range.
    static func settings(_ body: [String: JSONValue], base: ClusterSettings) throws -> ClusterSettings {
        var settings = base
        func number(_ field: String, _ range: ClosedRange<Double>) throws -> Double? {
            guard let value = body[field] else { return nil }
            guard let number = value.numberValue, range.contains(number) else {
                throw badRequest("\(field) must be a number from \(range.lowerBound) to \(range.upperBound).")
            }
            return number
        }
        if let value = try number("Threshold", 0.1...1.5) { settings.threshold = Float(value) }
        if let value = try number("AttachThreshold", 0.1...1.5) { settings.attachThreshold = Float(value) }
        if let value = try number("Looseness", 1...2) { settings.fragmentLooseness = Float(value) }
        if let value = try number("Neighbours", 2...200) {
            guard value == value.rounded() else { throw badRequest("Neighbours must be a whole number.") }
            settings.neighbours = Int(value)
        }
        return settings
    }

    /// A re-clustering preview as the page shows it.
    static func preview(_ preview: ReclusterPreview) -> [String: any Sendable] {
        var summary: [String: any Sendable] = ["MovedFaces": preview.movedFaces]
        for kind in [ReclusterPreview.Change.Kind.kept, .created, .merged, .split, .dissolved] {
            summary[kind.rawValue.prefix(1).uppercased() + kind.rawValue.dropFirst()] = preview.count(kind)
        }
        return ["Applied": preview.applied, "Summary": summary, "Changes": preview.changes.map { change -> [String: any Sendable] in
            ["Change": change.kind.rawValue, "ObjectId": change.person, "Name": change.name, "FacesBefore": change.facesBefore,
             "FacesAfter": change.facesAfter, "Into": change.into]
        }]
    }

    static func person(_ cluster: FigureCluster, cover: ClusterCover?) -> [String: any Sendable] {
        var body: [String: any Sendable] = ["ObjectId": cluster.id, "Name": cluster.name, "ImageCount": cluster.imageCount,
                                            "FaceCount": cluster.faceCount]
        if let cover, let figureID = cover.figure.objectValue?["FigureId"]?.stringValue {
            body["Cover"] = crop(document: cover.document, figureID: figureID)
        }
        return body
    }

    /// What the page needs to cut a face out of its photo: URI, photo size and the face's box.
    static func crop(document: [String: JSONValue], figureID: String) -> [String: any Sendable] {
        var body: [String: any Sendable] = [:]
        for field in ["URI", "ImageWidth", "ImageHeight"] { body[field] = document[field]?.any }
        let figure = document["Figures"]?.arrayValue?.first { $0.objectValue?["FigureId"]?.stringValue == figureID }
        body["Boundary"] = figure?.objectValue?["Boundary"]?.any
        return body
    }

    static func query(_ request: Request) -> [String: String] {
        request.uri.queryParameters.reduce(into: [:]) { $0[String($1.key)] = String($1.value) }
    }

    /// A JSON object body. Only `application/json` is read: a cross-site form cannot send it
    /// without a CORS preflight, which this server never grants.
    static func body(_ request: Request) async throws -> [String: JSONValue] {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true else {
            throw WireError(status: .unsupportedMediaType, code: "UnsupportedMediaType", message: "Send the body as application/json.")
        }
        let body = try await request.collectBody(upTo: 64 * 1024)
        guard let object = JSONValue(parsing: String(decoding: body, as: UTF8.self))?.objectValue else {
            throw badRequest("The body must be a JSON object.")
        }
        return object
    }

    static func badRequest(_ message: String) -> WireError {
        WireError(status: .badRequest, code: "InvalidParameter", message: message)
    }
}

/// Refuses callers not on this machine.
struct LoopbackOnly: RouterMiddleware {
    typealias Context = VisageContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard UploadTokenRoutes.isLoopback(context.remoteAddress) else {
            throw WireError(status: .forbidden, code: "Forbidden", message: "The people pages answer callers on this machine only.")
        }
        return try await next(request, context)
    }
}
