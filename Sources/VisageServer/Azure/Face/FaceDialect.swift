import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VisageAccess
import VisageCore
import VisageMedia

/// Azure AI Face liveness sessions under `/face/{apiVersion}/`: the preview contract the
/// `azure-ai-vision-face` 1.0.0b2 SDK speaks and the GA v1.2 one. The application server
/// authenticates with an `Ocp-Apim-Subscription-Key` that Visage issued (bound to the account or a
/// RAM user, so policies govern it); the client device with the session's token.
struct FaceDialect: Dialect {
    let sessions: LivenessSessions
    let keys: APIKeyDirectory
    let access: AccessServices
    let maxBodyBytes: Int
    let region: String
    let name = "azure-face"
    let recognition = Recognition(pathPrefixes: ["face"])
    /// The service name API keys for this dialect are issued under.
    static let service = VisageServer.faceAPIKeyService
    static let keyHeader = HTTPField.Name("Ocp-Apim-Subscription-Key")!
    static let clientRequestHeader = HTTPField.Name("x-ms-client-request-id")!

    func respond(to request: Request, context: VisageContext,
                 next: (Request, VisageContext) async throws -> Response) async throws -> Response {
        guard let (operation, contract) = FaceOperation.parse(method: request.method, path: request.uri.path) else {
            context.coreContext.endpointPath.value = "face:unknown"
            throw FaceError.notFound
        }
        context.coreContext.endpointPath.value = "face:\(operation.metricName)"
        switch operation {
        case let .challenge(kind):
            return try await challenge(kind, request: request, context: context)
        case let .detect(kind):
            return try await detect(kind, request: request, context: context)
        default:
            break
        }
        let caller = try await authenticate(request)
        if let action = operation.policyAction {
            let resource = "acs:face:\(region):\(caller.accountID):session/\(operation.sessionID ?? "*")"
            let decision = caller.decide(AccessRequest(action: action, resource: resource,
                                                       context: AccessRequest.standardContext(now: access.now(), sourceIP: context.remoteAddress)))
            guard decision == .allow else {
                throw WireError(status: .forbidden, code: "PermissionDenied",
                                message: "\(caller.arn) may not do \(action) on \(resource).")
            }
        }
        let query = request.uri.queryParameters
        switch operation {
        case let .create(kind):
            let body = try await request.collectBody(upTo: maxBodyBytes)
            let parsed = try FaceCreateRequest.parse(kind: kind, contract: contract, contentType: request.headers[.contentType] ?? "",
                                                     body: body)
            let (session, token) = try await sessions.create(parsed.core, accountID: caller.accountID)
            if contract == .ga {
                return try Self.json(FaceResponses.gaSession(session, token: token, entries: [], options: parsed.options))
            }
            return try Self.json(FaceResponses.CreateResult(sessionId: session.id, authToken: token,
                                                            verifyImage: session.verifyReference.map(FaceResponses.VerifyImage.init)))
        case let .list(kind):
            let start = query["start"].map(String.init)
            if let start, start.count > 64 { throw FaceError.badArgument("start is at most 64 characters.") }
            let top = try Self.top(query["top"].map(String.init))
            let list = try await sessions.list(accountID: caller.accountID, kind: kind, after: start, top: top)
            let now = Date()
            return try Self.json(list.map { FaceResponses.SessionItem($0, now: now, result: nil, detailed: false) })
        case let .get(kind, id):
            let session = try await sessions.session(id, accountID: caller.accountID, kind: kind)
            let options = Self.options(session)
            if contract == .ga {
                let entries = try await sessions.auditEntries(id, accountID: caller.accountID, kind: kind, after: nil, top: 1000)
                let token = try sessions.tokens.sign(LivenessTokenClaims(sessionID: session.id, kind: kind,
                                                                         expiresMillis: WallClock.millis(session.tokenExpires)))
                return try Self.json(FaceResponses.gaSession(session, token: token, entries: entries, options: options))
            }
            let result = try await sessions.result(of: id).map {
                FaceResponses.AuditEntry($0, returnVerifyImageHash: options?.returnVerifyImageHash ?? false)
            }
            return try Self.json(FaceResponses.SessionItem(session, now: Date(), result: result, detailed: true))
        case let .delete(kind, id):
            try await sessions.delete(id, accountID: caller.accountID, kind: kind)
            // The preview SDK accepts 200 only; the GA contract answers 204.
            return Response(status: contract == .ga ? .noContent : .ok)
        case let .audit(kind, id):
            let start = try query["start"].map { text -> Int in
                guard let value = Int(text), value >= 0 else { throw FaceError.badArgument("start must be an audit entry id.") }
                return value
            }
            let top = try Self.top(query["top"].map(String.init))
            let session = try await sessions.session(id, accountID: caller.accountID, kind: kind)
            let returnHash = Self.options(session)?.returnVerifyImageHash ?? false
            let entries = try await sessions.auditEntries(id, accountID: caller.accountID, kind: kind, after: start, top: top)
            return try Self.json(entries.map { FaceResponses.AuditEntry($0, returnVerifyImageHash: returnHash) })
        case .challenge, .detect:
            throw FaceError.notFound
        }
    }

    // MARK: The client's calls

    /// `POST …/singleModal/challenge`: the next attempt's challenge.
    private func challenge(_ kind: LivenessKind, request: Request, context: VisageContext) async throws -> Response {
        let token = try Self.bearer(request)
        let body = try await request.collectBody(upTo: 64 * 1024)
        let issued = try await sessions.challenge(token: token, kind: kind, call: Self.facts(request, body: body, context: context))
        return try Self.json(FaceResponses.Challenge(issued))
    }

    /// `POST …/singleModal`: the frames answering the challenge (docs/liveness.md describes the
    /// form); 200 with the result when the session sends results to the client, else 204.
    private func detect(_ kind: LivenessKind, request: Request, context: VisageContext) async throws -> Response {
        let token = try Self.bearer(request)
        let body = try await request.collectBody(upTo: maxBodyBytes)
        let burst = FaceBurstForm.parse(contentType: request.headers[.contentType] ?? "", body: body)
        let (session, entry) = try await sessions.submit(token: token, kind: kind, burst: burst,
                                                         call: Self.facts(request, body: body, context: context))
        guard session.sendResults, let outcome = entry.outcome else { return Response(status: .noContent) }
        return try Self.json(FaceResponses.body(outcome))
    }

    static func bearer(_ request: Request) throws -> String {
        guard let value = request.headers[.authorization], value.lowercased().hasPrefix("bearer "),
              case let token = value.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces), !token.isEmpty
        else { throw FaceError.missingToken }
        return token
    }

    static func facts(_ request: Request, body: [UInt8], context: VisageContext) -> LivenessCallFacts {
        LivenessCallFacts(
            requestID: context.requestID, clientRequestID: request.headers[clientRequestHeader] ?? "", url: request.uri.path,
            method: request.method.rawValue, contentLength: body.count, contentType: request.headers[.contentType] ?? "",
            userAgent: request.headers[.userAgent] ?? "", digest: Array(SHA256.hash(data: Data(body))).hexString)
    }

    // MARK: Pieces

    /// The caller behind the request's subscription key.
    private func authenticate(_ request: Request) async throws -> Caller {
        guard let key = request.headers[Self.keyHeader], !key.isEmpty else { throw FaceError.missingKey }
        do {
            return try await keys.caller(presenting: key, service: Self.service)
        } catch is AuthenticationFailure {
            throw FaceError.badKey
        }
    }

    static func options(_ session: LivenessSession) -> FaceSessionOptions? {
        try? JSONDecoder().decode(FaceSessionOptions.self, from: Data(session.options.utf8))
    }

    static func top(_ text: String?) throws -> Int {
        guard let text else { return 1000 }
        guard let value = Int(text), (1...1000).contains(value) else { throw FaceError.badArgument("top must be between 1 and 1000.") }
        return value
    }

    static func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    func wireError(_ error: any Error) -> WireError {
        switch error {
        case let failure as LivenessFailure: FaceError.wire(failure)
        case let core as VisageError:
            switch core {
            case .invalidArgument, .malformedPolicy: FaceError.badArgument(core.description)
            case .notFound: FaceError.notFound
            default: WireError(core)
            }
        default: WireError(error)
        }
    }

    func authenticationError(_ problem: AuthenticationProblem) -> WireError { FaceError.authentication(problem) }

    func render(_ error: WireError, for request: Request, requestID: String) -> Response {
        ErrorBody.json(["error": ["code": error.code, "message": error.message]], status: error.status,
                       headers: [.contentType: "application/json; charset=utf-8", HTTPField.Name("x-ms-error-code")!: error.code,
                                 HTTPField.Name("apim-request-id")!: requestID])
    }
}

/// The client's frame burst as a `multipart/form-data` form: a `Parameters` part (JSON with the
/// `challengeId` it answers), one `Frame` part per camera frame in capture order (JPEG or PNG),
/// and, for a verifying session created without one, a `VerifyImage` part.
enum FaceBurstForm {
    static func parse(contentType: String, body: [UInt8]) -> LivenessBurst {
        guard let boundary = MultipartForm.boundary(ofContentType: contentType) else {
            return LivenessBurst(challengeID: "", frames: [], verifyImage: nil, problem: "the body must be multipart/form-data")
        }
        let form: MultipartForm
        do {
            form = try MultipartForm(body: body, boundary: boundary)
        } catch {
            return LivenessBurst(challengeID: "", frames: [], verifyImage: nil, problem: "the multipart body is malformed: \(error)")
        }
        guard let parameters = form.part("Parameters"),
              case let .object(fields)? = JSONValue(parsing: String(decoding: parameters.body, as: UTF8.self)),
              case let .string(challengeID)? = fields["challengeId"], !challengeID.isEmpty
        else {
            return LivenessBurst(challengeID: "", frames: [], verifyImage: nil,
                                 problem: "the Parameters part must be JSON naming the challengeId answered")
        }
        return LivenessBurst(challengeID: challengeID, frames: form.parts.filter { $0.name == "Frame" }.map(\.body),
                             verifyImage: form.part("VerifyImage")?.body, problem: nil)
    }
}
