import Foundation
import Hummingbird
import NIOCore
import VisageAccess
import VisageCore

/// One authenticated RPC call, as an operation sees it.
public struct RPCCall: Sendable {
    public let request: RPCRequest
    public let caller: Caller
    public let sourceIP: String?
    public let now: Date
    /// The id this call's response carries as `RequestId`.
    public let requestID: String

    /// A parameter, or nil when absent or empty (the SDKs send unset values as empty).
    public func optional(_ name: String) -> String? {
        guard let value = request.parameters[name], !value.isEmpty else { return nil }
        return value
    }

    /// A required parameter, or `MissingParameter`/`Missing{Name}`.
    public func required(_ name: String) throws -> String {
        guard let value = optional(name) else { throw missing(name) }
        return value
    }

    public func missing(_ name: String) -> WireError {
        WireError(status: .badRequest, code: "Missing\(name)",
                  message: "The input parameter \"\(name)\" that is mandatory for processing this request is not supplied.")
    }

    /// An optional integer parameter, refused when it is not one.
    public func integer(_ name: String) throws -> Int? {
        guard let text = optional(name) else { return nil }
        guard let value = Int(text) else {
            throw WireError(status: .badRequest, code: "InvalidParameter.\(name)", message: "\(name) must be an integer.")
        }
        return value
    }

    /// The request's condition keys: time, transport and source address.
    public var context: [String: String] { AccessRequest.standardContext(now: now, sourceIP: sourceIP) }

    /// Refuses the call unless the caller's policies allow `action` on `resource`.
    public func authorize(_ action: String, resource: String, context extra: [String: String] = [:]) throws {
        let context = self.context.merging(extra) { _, new in new }
        guard caller.decide(AccessRequest(action: action, resource: resource, context: context)) == .allow else {
            throw WireError(status: .forbidden, code: "NoPermission",
                            message: "You are not authorized to do this action: \(action) on \(resource) is not allowed for \(caller.arn).")
        }
    }
}

/// Dispatches Alibaba Cloud RPC calls at `/` to the operation registered for their
/// (Version, Action) pair, after checking the signature. Each product (STS, RAM, IMM) registers
/// its operations here.
public struct RPCRouter: Sendable {
    /// Handles one call and returns the JSON object of a successful response (without `RequestId`).
    public typealias Operation = @Sendable (RPCCall) async throws -> [String: any Sendable]

    private var operations: [String: Operation] = [:]
    let maxBodyBytes: Int
    let access: AccessServices

    public init(maxBodyBytes: Int, access: AccessServices) {
        self.maxBodyBytes = maxBodyBytes
        self.access = access
    }

    public mutating func register(version: String, action: String, _ operation: @escaping Operation) {
        operations["\(version) \(action)"] = operation
    }

    /// Registers a product's operations, each a method of `product`; core failures they throw
    /// are named by the product's own `errors`.
    mutating func register<Product: Sendable>(
        version: String, _ product: Product,
        _ table: [(String, @Sendable (Product, RPCCall) async throws -> [String: any Sendable])],
        errors: @escaping @Sendable (VisageError) -> WireError
    ) {
        for (action, handler) in table {
            register(version: version, action: action) { call in
                do {
                    return try await handler(product, call)
                } catch let error as VisageError {
                    throw errors(error)
                }
            }
        }
    }

    func respond(to request: Request, context: VisageContext) async throws -> Response {
        let call = try await RPCRequest.read(request, maxBodyBytes: maxBodyBytes)
        context.coreContext.endpointPath.value = "rpc:\(call.action)"
        guard let operation = operations["\(call.version) \(call.action)"] else {
            context.coreContext.endpointPath.value = "rpc:unknown"
            throw WireError(status: .notFound, code: "InvalidAction.NotFound",
                            message: "Specified api is not found, please check your url and method.")
        }
        let signature = try call.signature()
        let caller = try await access.authenticate(
            accessKeyID: signature.accessKeyID, securityToken: signature.securityToken, signedAt: signature.timestamp,
            nonce: signature.nonce, matches: signature.matches, failure: Self.wireError)
        var body = try await operation(RPCCall(request: call, caller: caller, sourceIP: context.remoteAddress, now: access.now(),
                                                 requestID: context.requestID))
        body["RequestId"] = context.requestID
        let data = try ResponseJSON.data(body)
        return Response(status: .ok, headers: [.contentType: "application/json;charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The gateway error codes the Alibaba Cloud SDKs know.
    static func wireError(_ problem: AuthenticationProblem) -> any Error {
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
                return WireError(status: .forbidden, code: "InvalidSecurityToken.Expired",
                                 message: "Specified SecurityToken is no longer valid: its role was deleted or the key that obtained it was disabled.")
            }
        }
    }
}
