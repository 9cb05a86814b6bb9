import HTTPTypes
import Hummingbird

/// Alibaba Cloud RPC (STS, RAM, IMM) at `/`: calls marked by `Action` (query or form body) or
/// `x-acs-action`, a form POST, and whatever else arrives at `/` that no other dialect claims.
struct AlibabaRPCDialect: Dialect {
    let rpc: RPCRouter
    let name = "alibaba-rpc"
    let recognition = Recognition(root: { head in
        head.headers[HTTPField.Name("x-acs-action")!] != nil || head.query["Action"] != nil
            || (head.method == .post && head.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true)
    }, restOfRoot: true)

    func respond(to request: Request, context: VisageContext,
                 next: (Request, VisageContext) async throws -> Response) async throws -> Response {
        try await rpc.respond(to: request, context: context)
    }

    func authenticationError(_ problem: AuthenticationProblem) -> WireError { Self.gatewayError(problem) }

    func render(_ error: WireError, for request: Request, requestID: String) -> Response {
        Self.body(error, requestID: requestID, host: request.head.authority ?? "localhost")
    }

    /// Alibaba Cloud's JSON error body, shared by the RPC and ROA dialects.
    static func body(_ error: WireError, requestID: String, host: String) -> Response {
        ErrorBody.json(["RequestId": requestID, "HostId": host, "Code": error.code, "Message": error.message, "Recommend": ""],
                       status: error.status, headers: [.contentType: "application/json;charset=utf-8"])
    }

    /// The gateway error codes the Alibaba Cloud SDKs know.
    static func gatewayError(_ problem: AuthenticationProblem) -> WireError {
        switch problem {
        case .timeSkewed:
            return WireError(status: .badRequest, code: "InvalidTimeStamp.Expired",
                             message: "Specified time stamp or date value is expired (more than 15 minutes from the server's time).")
        case .signatureMismatch:
            return WireError(status: .badRequest, code: "SignatureDoesNotMatch",
                             message: "Specified signature is not matched with our calculation.")
        case .nonceReused:
            return WireError(status: .badRequest, code: "SignatureNonceUsed", message: "Specified signature nonce was used already.")
        case let .credentials(failure):
            switch failure {
            case let .unknownAccessKey(id):
                return WireError(status: .notFound, code: "InvalidAccessKeyId.NotFound", message: "Specified access key \(id) is not found.")
            case let .inactiveAccessKey(id):
                return WireError(status: .badRequest, code: "InvalidAccessKeyId.Inactive", message: "Specified access key \(id) is disabled.")
            case .tokenMissing:
                return WireError(status: .badRequest, code: "MissingSecurityToken",
                                 message: "A temporary access key needs its SecurityToken.")
            case .tokenMalformed:
                return WireError(status: .forbidden, code: "InvalidSecurityToken.Malformed", message: "Specified SecurityToken is malformed.")
            case .tokenExpired:
                return WireError(status: .forbidden, code: "InvalidSecurityToken.Expired", message: "Specified SecurityToken is expired.")
            case .tokenMismatch:
                return WireError(status: .forbidden, code: "InvalidSecurityToken.MismatchWithAccessKey",
                                 message: "Specified SecurityToken does not belong to the access key.")
            case .tokenRevoked:
                return WireError(status: .forbidden, code: "InvalidSecurityToken.Revoked",
                                 message: "Specified SecurityToken is no longer valid: its role was deleted or the key that obtained it was disabled.")
            }
        }
    }
}
