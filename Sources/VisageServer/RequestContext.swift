import Foundation
import Hummingbird
import NIOCore

/// Per-request state: the request id, the dialect it belongs to, and the peer address.
public struct VisageContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestID: String = ""
    /// Set by the envelope middleware before anything else runs.
    public var dialect: any Dialect = ServerPages()
    public let remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}
