import Foundation
import Hummingbird
import NIOCore

/// Per-request state: the request id, what kind of request it is, and the peer address.
public struct VisageContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestID: String = ""
    public var route: RouteKind = .notFound
    public let remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}
