import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VisageAccess
import VisageCore
import VisageSigning

/// The application-server side of the upload page, as the seed's `/get_sts_token`: hands the
/// browser short-lived credentials of the configured role, obtained as the configured RAM user,
/// so no long-term secret ever reaches the browser.
struct UploadTokenRoutes: Sendable {
    let settings: UploadSettings
    let access: AccessServices
    let region: String

    func add(to router: Router<VisageContext>) {
        router.get("visage/v1/upload/config") { _, _ -> Response in
            Self.json(["Configured": settings.isConfigured, "Bucket": settings.bucket, "Project": settings.project,
                       "Region": region, "NeedsSecret": settings.sharedSecret != nil])
        }
        router.get("visage/v1/upload/sts-token") { request, context -> Response in
            try await token(request, context)
        }
    }

    func token(_ request: Request, _ context: VisageContext) async throws -> Response {
        if let secret = settings.sharedSecret {
            let presented = request.headers[.authorization].map { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : "" } ?? ""
            guard SigningText.constantTimeEqual(presented, secret) else {
                throw WireError(status: .unauthorized, code: "Unauthorized", message: "Send the upload secret as Authorization: Bearer <secret>.")
            }
        } else if !Self.isLoopback(context.remoteAddress) {
            throw WireError(status: .forbidden, code: "Forbidden",
                            message: "Without VISAGE_UPLOAD_SECRET the token endpoint answers callers on this machine only.")
        }
        guard let userName = settings.userName, let roleName = settings.roleName else {
            throw WireError(status: .serviceUnavailable, code: "NotConfigured",
                            message: "Set VISAGE_UPLOAD_USER and VISAGE_UPLOAD_ROLE to hand out upload tokens.")
        }
        guard let account = try await access.identities.keys.accountIDs().first else {
            throw WireError(status: .serviceUnavailable, code: "NotConfigured", message: "The server has no account yet.")
        }
        do {
            let caller = try await access.resolver.caller(account: account, userName: userName)
            let now = access.now()
            let conditions = AccessRequest.standardContext(now: now, sourceIP: context.remoteAddress)
            let grant = try await access.issuer.assumeRole(
                caller: caller, roleARN: "acs:ram::\(account):role/\(roleName.lowercased())", sessionName: "visage-upload-page",
                durationSeconds: settings.durationSeconds, sessionPolicy: settings.sessionPolicy, context: conditions, now: now)
            return Self.json(STSOperations.credentials(grant))
        } catch let refusal as SessionIssuer.Refusal {
            let wire = STSOperations.wireError(refusal)
            throw WireError(status: .serviceUnavailable, code: "UploadRoleUnavailable",
                            message: "The configured upload user cannot assume \(roleName): \(wire.message)")
        } catch VisageError.notFound(let kind, let name) {
            throw WireError(status: .serviceUnavailable, code: "UploadUserUnavailable",
                            message: "The configured upload user is not usable: \(kind) \(name) does not exist.")
        }
    }

    static func isLoopback(_ address: String?) -> Bool {
        guard let address, let bytes = IPNetwork.address(address) else { return false }
        return bytes.count == 4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1]
    }

    static func json(_ object: [String: any Sendable], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
