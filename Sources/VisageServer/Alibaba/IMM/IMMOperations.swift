import Foundation
import VisageAccess
import VisageCore
import VisageMedia
import VisageStore
import VisageJobs

/// IMM (Version 2020-09-30): projects, datasets, file metadata, SimpleQuery, tasks and
/// DetectImageFaces. Every operation authorizes `imm:<Action>` on
/// `acs:imm:REGION:ACCOUNT:project/NAME`. Source objects are read by the project's service role
/// (`ServiceRoleAccess`), not the caller.
struct IMMOperations: Sendable {
    let projects: ProjectCatalog
    let datasets: DatasetCatalog
    let files: FileIndex
    let indexing: MediaIndexing
    let tasks: MediaTaskStore
    let readAccess: ServiceRoleAccess
    let bindings: DatasetBindings
    let clustering: FigureClustering
    let figureClusters: FigureClusterStore
    let faces: ImageFaces
    let comparison: PairComparison
    let outbox: NotificationOutbox
    let region: String
    static let version = "2020-09-30"

    init(store: MetadataStore, readAccess: ServiceRoleAccess, faces: ImageFaces, comparison: PairComparison, indexing: MediaIndexing, bindings: DatasetBindings,
         clustering: FigureClustering, outbox: NotificationOutbox, region: String) {
        self.bindings = bindings
        self.clustering = clustering
        self.figureClusters = FigureClusterStore(store: store)
        self.projects = ProjectCatalog(store: store)
        self.datasets = DatasetCatalog(store: store)
        self.files = FileIndex(store: store)
        self.tasks = MediaTaskStore(store: store)
        self.indexing = indexing
        self.readAccess = readAccess
        self.faces = faces
        self.comparison = comparison
        self.outbox = outbox
        self.region = region
    }

    func register(in router: inout RPCRouter) {
        let table: [(String, @Sendable (IMMOperations, RPCCall) async throws -> [String: any Sendable])] = [
            ("CreateProject", { try await $0.createProject($1) }),
            ("GetProject", { try await $0.getProject($1) }),
            ("ListProjects", { try await $0.listProjects($1) }),
            ("DeleteProject", { try await $0.deleteProject($1) }),
            ("DetectImageFaces", { try await $0.detectImageFaces($1) }),
            ("CompareImageFaces", { try await $0.compareImageFaces($1) }),
            ("CreateDataset", { try await $0.createDataset($1) }),
            ("GetDataset", { try await $0.getDataset($1) }),
            ("ListDatasets", { try await $0.listDatasets($1) }),
            ("UpdateDataset", { try await $0.updateDataset($1) }),
            ("DeleteDataset", { try await $0.deleteDataset($1) }),
            ("IndexFileMeta", { try await $0.indexFileMeta($1) }),
            ("BatchIndexFileMeta", { try await $0.batchIndexFileMeta($1) }),
            ("GetFileMeta", { try await $0.getFileMeta($1) }),
            ("BatchGetFileMeta", { try await $0.batchGetFileMeta($1) }),
            ("UpdateFileMeta", { try await $0.updateFileMeta($1) }),
            ("DeleteFileMeta", { try await $0.deleteFileMeta($1) }),
            ("BatchDeleteFileMeta", { try await $0.batchDeleteFileMeta($1) }),
            ("SimpleQuery", { try await $0.simpleQuery($1) }),
            ("GetTask", { try await $0.getTask($1) }),
            ("CreateBinding", { try await $0.createBinding($1) }),
            ("GetBinding", { try await $0.getBinding($1) }),
            ("ListBindings", { try await $0.listBindings($1) }),
            ("DeleteBinding", { try await $0.deleteBinding($1) }),
            ("ListTasks", { try await $0.listTasks($1) }),
            ("CreateFigureClusteringTask", { try await $0.createFigureClusteringTask($1) }),
            ("CreateFigureClustersMergingTask", { try await $0.createFigureClustersMergingTask($1) }),
            ("QueryFigureClusters", { try await $0.queryFigureClusters($1) }),
            ("GetFigureCluster", { try await $0.getFigureCluster($1) }),
            ("BatchGetFigureCluster", { try await $0.batchGetFigureCluster($1) }),
            ("UpdateFigureCluster", { try await $0.updateFigureCluster($1) }),
        ]
        router.register(version: Self.version, self, table, errors: Self.wireError)
    }

    func createProject(_ call: RPCCall) async throws -> [String: any Sendable] {
        let name = try call.required("ProjectName")
        try authorize(call, "CreateProject", project: name)
        let project = try await projects.create(account: call.caller.accountID, name: name, description: call.optional("Description"),
                                                serviceRole: call.optional("ServiceRole"), templateID: call.optional("TemplateId"))
        return ["Project": Self.project(project)]
    }

    func getProject(_ call: RPCCall) async throws -> [String: any Sendable] {
        let name = try call.required("ProjectName")
        try authorize(call, "GetProject", project: name)
        return ["Project": Self.project(try await projects.project(account: call.caller.accountID, name: name))]
    }

    func listProjects(_ call: RPCCall) async throws -> [String: any Sendable] {
        try authorize(call, "ListProjects", project: "*")
        let limit = try maxResults(call, range: 1...200, default: 100)
        let page = try await projects.projects(account: call.caller.accountID, prefix: call.optional("Prefix") ?? "",
                                               after: call.optional("NextToken") ?? "", limit: limit + 1)
        var body: [String: any Sendable] = ["Projects": page.prefix(limit).map(Self.project)]
        if page.count > limit, let last = page.prefix(limit).last { body["NextToken"] = last.name }
        return body
    }

    func deleteProject(_ call: RPCCall) async throws -> [String: any Sendable] {
        let name = try call.required("ProjectName")
        try authorize(call, "DeleteProject", project: name)
        try await projects.delete(account: call.caller.accountID, name: name)
        return [:]
    }

    /// The faces of one image in the caller's object store, in IMM's Figure shape.
    func detectImageFaces(_ call: RPCCall) async throws -> [String: any Sendable] {
        let name = try call.required("ProjectName")
        try authorize(call, "DetectImageFaces", project: name)
        let project = try await projects.project(account: call.caller.accountID, name: name)
        let (bucket, key) = try ServiceRoleAccess.ossURI(try call.required("SourceURI"), field: "SourceURI")
        try await readAccess.authorizeRead(project: project, bucket: bucket, key: key)
        let analysis = try await faces.detect(bucket: bucket, key: key)
        return ["Faces": analysis.faces.map { Figure.document(id: UUID().uuidString.lowercased(), attributes: $0.attributes).any }]
    }

    /// How alike the largest face of two images is: the calibrated similarity (0–1, 0.5 at the
    /// same-person boundary) every 1:1 comparison gives, Content Moderation's included. When the
    /// project has people, the pair is judged against them (docs/face-comparison.md).
    func compareImageFaces(_ call: RPCCall) async throws -> [String: any Sendable] {
        let name = try call.required("ProjectName")
        try authorize(call, "CompareImageFaces", project: name)
        let project = try await projects.project(account: call.caller.accountID, name: name)
        guard let source = JSONValue(parsing: try call.required("Source"))?.objectValue,
              let first = source["URI1"]?.stringValue, let second = source["URI2"]?.stringValue
        else { throw VisageError.invalidArgument(field: "Source", message: "must be a JSON object with URI1 and URI2") }
        var images: [ImageSource] = []
        for (field, uri) in [("Source.URI1", first), ("Source.URI2", second)] {
            let (bucket, key) = try ServiceRoleAccess.ossURI(uri, field: field)
            try await readAccess.authorizeRead(project: project, bucket: bucket, key: key)
            images.append(.object(bucket: bucket.value, key: key.value))
        }
        let people = try await figureClusters.projectPeople(accountID: call.caller.accountID, project: project.name)
        switch await comparison.compare(images[0], images[1], people: people) {
        case let .compared(result):
            return ["Similarity": result.similarity]
        case let .failed(failure):
            let field: (Int) -> String = { $0 == 1 ? "Source.URI1" : "Source.URI2" }
            switch failure {
            case let .noFace(image): throw VisageError.invalidArgument(field: field(image), message: "no face was found in the image")
            case let .image(image, problem): throw VisageError.invalidArgument(field: field(image), message: "\(problem)")
            case let .objectMissing(image): throw VisageError.notFound(kind: .object, name: image == 1 ? first : second)
            case let .fetch(image, problem): throw VisageError.invalidArgument(field: field(image), message: "\(problem)")
            case .timedOut, .internalError: throw VisageError.internalFailure(message: "\(failure)")
            }
        }
    }

    func authorize(_ call: RPCCall, _ action: String, project: String) throws {
        try call.authorize("imm:\(action)", resource: "acs:imm:\(region):\(call.caller.accountID):project/\(project)")
    }

    static func project(_ project: MediaProject) -> [String: any Sendable] {
        ["ProjectName": project.name, "Description": project.description, "ServiceRole": project.serviceRole,
         "TemplateId": project.templateID, "CreateTime": time(project.created), "UpdateTime": time(project.updated)]
    }

    static func time(_ date: Date) -> String {
        MediaTime.text(date)
    }

    /// MaxResults within `range`, or InvalidArgument.
    func maxResults(_ call: RPCCall, range: ClosedRange<Int>, default value: Int) throws -> Int {
        let limit = try call.integer("MaxResults") ?? value
        guard range.contains(limit) else {
            throw WireError(status: .badRequest, code: "InvalidArgument",
                            message: "MaxResults must be from \(range.lowerBound) to \(range.upperBound).")
        }
        return limit
    }

    /// A boolean parameter (`true`/`false`, any case, as the SDKs send them).
    func flag(_ call: RPCCall, _ name: String) throws -> Bool {
        guard let text = call.optional(name) else { return false }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default: throw WireError(status: .badRequest, code: "InvalidArgument", message: "\(name) must be true or false.")
        }
    }

    /// IMM's error codes (its documentation gives 400 for missing and existing resources).
    static func wireError(_ error: VisageError) -> WireError {
        switch error {
        case let .notFound(kind, name):
            return WireError(status: .badRequest, code: "ResourceNotFound", message: "The specified resource \(resource(kind)) \(name) is not found.")
        case let .conflict(kind, name, _):
            return WireError(status: .badRequest, code: "ResourceAlreadyExists",
                             message: "The specified resource \(resource(kind)) \(name) already exists.")
        case let .invalidArgument(field, message), let .malformedPolicy(field, message):
            return WireError(status: .badRequest, code: "InvalidArgument", message: "\(field) \(message)")
        case let .objectRejected(_, message), let .inUse(_, _, _, message), let .limitExceeded(_, _, _, message):
            return WireError(status: .badRequest, code: "InvalidArgument", message: message)
        case let .forbidden(message):
            return WireError(status: .forbidden, code: "NoPermission", message: message)
        case let .tooLarge(field, limit):
            return WireError(status: .badRequest, code: "InvalidArgument", message: "The \(field) is larger than \(limit) bytes.")
        case let .preconditionFailed(message):
            // A stale MetaLockVersion: the edit would overwrite someone else's.
            return WireError(status: .conflict, code: "InvalidArgument", message: message)
        case .rangeNotSatisfiable, .internalFailure, .unavailable:
            return WireError(error)
        }
    }

    /// How IMM's messages name a kind of resource.
    static func resource(_ kind: ResourceKind) -> String {
        switch kind {
        case .project: "Project"
        case .dataset: "Dataset"
        case .binding: "Binding"
        case .file: "File"
        case .task: "Task"
        case .figure: "Figure"
        case .figureCluster: "FigureCluster"
        case .clusteringRun: "FigureClusters"
        case .edit: "Edit"
        case .bucket, .object, .upload, .accessKey, .user, .role, .policy, .policyAttachment, .userPolicy, .rolePolicy: kind.rawValue
        }
    }
}
