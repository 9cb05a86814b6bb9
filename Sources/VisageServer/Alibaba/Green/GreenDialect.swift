import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VisageAccess

/// Alibaba Cloud Content Moderation (2018-05-09, ROA) under `/green/`: image scans of scene
/// `sface-1` (1:1 face comparison), asynchronous with results polled or called back, or
/// synchronous. Signed with ACS3 or ROA V1; answers in the service's lower-camel envelope.
struct GreenDialect: Dialect {
    let operations: GreenImageOperations
    let access: AccessServices
    let maxBodyBytes: Int
    let rate: CallRateLimit
    let region: String
    let name = "green"
    let recognition = Recognition(pathPrefixes: ["green"])

    /// The paths served and the policy action each needs.
    enum Action: String {
        case imageAsyncScan = "ImageAsyncScan"
        case imageAsyncScanResults = "ImageAsyncScanResults"
        case imageSyncScan = "ImageSyncScan"

        init?(path: String) {
            switch path {
            case "/green/image/asyncscan": self = .imageAsyncScan
            case "/green/image/results": self = .imageAsyncScanResults
            case "/green/image/scan": self = .imageSyncScan
            default: return nil
            }
        }

        var policyAction: String { "yundun-greenweb:\(rawValue)" }
    }

    func respond(to request: Request, context: VisageContext,
                 next: (Request, VisageContext) async throws -> Response) async throws -> Response {
        guard let action = Action(path: request.uri.path) else {
            context.coreContext.endpointPath.value = "green:unknown"
            throw WireError(status: .notFound, code: "InvalidAction.NotFound",
                            message: "Specified api is not found, please check your url and method: this server offers /green/image/asyncscan, /green/image/results and /green/image/scan.")
        }
        context.coreContext.endpointPath.value = "green:\(action.rawValue)"
        guard request.method == .post else {
            throw WireError(status: .methodNotAllowed, code: "MethodNotAllowed", message: "\(request.uri.path) answers POST only.")
        }
        let body = try await request.collectBody(upTo: maxBodyBytes)
        let signature = try ROASignature.read(request, body: body)
        let caller = try await authenticate(access, accessKeyID: signature.accessKeyID, securityToken: signature.securityToken,
                                            signedAt: signature.timestamp, nonce: signature.nonce, matches: signature.matches)
        guard rate.admit(caller.accountID) else {
            throw GreenCode.exceedQuota.error("more than \(Int(rate.perSecond)) calls a second for this account", status: .tooManyRequests)
        }
        let resource = "acs:yundun-greenweb:\(region):\(caller.accountID):*"
        let decision = caller.decide(AccessRequest(action: action.policyAction, resource: resource,
                                                   context: AccessRequest.standardContext(now: access.now(), sourceIP: context.remoteAddress)))
        guard decision == .allow else {
            throw WireError(status: .forbidden, code: "NoPermission",
                            message: "You are not authorized to do this action: \(action.policyAction) on \(resource) is not allowed for \(caller.arn).")
        }
        try Self.checkClientInfo(request)
        let call = GreenCall(caller: caller, body: body, authority: request.head.authority, sourceIP: context.remoteAddress,
                             requestID: context.requestID)
        let data: [any Sendable]
        switch action {
        case .imageAsyncScan: data = try await operations.asyncScan(call)
        case .imageAsyncScanResults: data = try await operations.results(call)
        case .imageSyncScan: data = try await operations.scan(call)
        }
        let envelope: [String: any Sendable] = ["code": GreenCode.ok.rawValue, "msg": GreenCode.ok.msg, "requestId": context.requestID,
                                                "data": data]
        return Response(status: .ok, headers: [.contentType: "application/json;charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try ResponseJSON.data(envelope))))
    }

    /// `ClientInfo` (the SDK's spelling) or `clientInfo` (the documentation's): a JSON object
    /// describing the end user, accepted and not stored.
    static func checkClientInfo(_ request: Request) throws {
        for (name, value) in FormEncoding.decode(request.uri.query ?? "") where name == "ClientInfo" || name == "clientInfo" {
            guard (try? JSONSerialization.jsonObject(with: Data(value.utf8))) is [String: Any] else {
                throw GreenCode.badRequest.error("\(name) must be a JSON object")
            }
        }
    }

    func authenticationError(_ problem: AuthenticationProblem) -> WireError { AlibabaRPCDialect.gatewayError(problem) }

    /// The service's own failures (numeric codes) in its lower-camel envelope; the gateway's
    /// (signatures, credentials, permissions) in Alibaba Cloud's common JSON error body.
    func render(_ error: WireError, for request: Request, requestID: String) -> Response {
        guard let code = Int(error.code) else {
            return AlibabaRPCDialect.body(error, requestID: requestID, host: request.head.authority ?? "localhost")
        }
        // `message` as well: the SDKs read an error's text from `Message` or `message` only.
        return ErrorBody.json(["code": code, "msg": error.message, "message": error.message, "requestId": requestID], status: error.status,
                              headers: [.contentType: "application/json;charset=utf-8"])
    }
}

/// One authenticated Content Moderation call.
struct GreenCall: Sendable {
    let caller: Caller
    let body: [UInt8]
    /// The host the caller reached this server at: URLs to it name this server's own objects.
    let authority: String?
    let sourceIP: String?
    let requestID: String
}
