import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import VisageCore

/// Why an outgoing request did not bring back what was asked for.
public enum OutboundFailure: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    /// Not an http(s) URL with a host, or longer than allowed.
    case badURL(String)
    /// The host (or a redirect's) stands for an address on a network no one allowed.
    case refusedAddress(host: String)
    case unresolvable(host: String)
    /// Connecting or reading failed.
    case unreachable(String)
    /// The whole exchange took longer than allowed.
    case timedOut(seconds: Double)
    /// The body is larger than allowed.
    case tooLarge(limit: Int)
    /// The server answered with a status other than 2xx.
    case status(Int)
    case tooManyRedirects

    public var description: String {
        switch self {
        case let .badURL(why): "bad URL: \(why)"
        case let .refusedAddress(host): "\(host) is on a private network; allow it with VISAGE_ALLOW_NETWORKS"
        case let .unresolvable(host): "\(host) does not resolve"
        case let .unreachable(why): "could not connect or read: \(why)"
        case let .timedOut(seconds): "no complete answer within \(seconds) s"
        case let .tooLarge(limit): "the body is over \(limit) bytes"
        case let .status(code): "the server answered HTTP \(code)"
        case .tooManyRedirects: "too many redirects"
        }
    }
}

/// Outgoing HTTP for webhooks and image URLs: every host (also each redirect's) is resolved once
/// and checked by `OutboundAddresses`, and the connection goes to the address checked, so a second
/// DNS answer cannot lead to a private network (DNS rebinding).
public struct OutboundHTTP: Sendable {
    public let addresses: OutboundAddresses

    public init(addresses: OutboundAddresses) {
        self.addresses = addresses
    }

    /// What came back.
    public struct Answer: Sendable {
        public let status: Int
        public let headers: HTTPHeaders
        public let body: [UInt8]
    }

    /// One request to `url` (no redirects followed); the whole exchange must end within
    /// `timeout` and the body may hold at most `maxBytes`.
    public func send(_ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
                     timeout: Duration, maxBytes: Int) async throws -> Answer {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = parsed.host, !host.isEmpty
        else { throw OutboundFailure.badURL("only http:// and https:// URLs with a host are fetched") }
        let address: String
        switch await addresses.resolve(host: host) {
        case let .address(found): address = found
        case .unresolvable: throw OutboundFailure.unresolvable(host: host)
        case .refused: throw OutboundFailure.refusedAddress(host: host)
        }
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(Int64(max(1, timeout.components.seconds))))
        let bareHost = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if IPNetwork.address(bareHost) == nil { configuration.dnsOverride = [bareHost: address] }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let outcome: Result<Answer, any Error>
        do {
            outcome = .success(try await exchange(request, client: client, timeout: timeout, maxBytes: maxBytes))
        } catch {
            outcome = .failure(error)
        }
        try? await client.shutdown()
        return try outcome.get()
    }

    private func exchange(_ request: HTTPClientRequest, client: HTTPClient, timeout: Duration, maxBytes: Int) async throws -> Answer {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        return try await withThrowingTaskGroup(of: Answer?.self) { group in
            group.addTask {
                let response: HTTPClientResponse
                do {
                    response = try await client.execute(request, timeout: .nanoseconds(Int64(seconds * 1e9)))
                } catch let error as HTTPClientError where error == .deadlineExceeded {
                    throw OutboundFailure.timedOut(seconds: seconds)
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    throw OutboundFailure.unreachable("\(error)")
                }
                if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > maxBytes {
                    throw OutboundFailure.tooLarge(limit: maxBytes)
                }
                var collected: [UInt8] = []
                do {
                    for try await chunk in response.body {
                        guard collected.count + chunk.readableBytes <= maxBytes else { throw OutboundFailure.tooLarge(limit: maxBytes) }
                        collected += chunk.readableBytesView
                    }
                } catch let failure as OutboundFailure {
                    throw failure
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    throw OutboundFailure.unreachable("\(error)")
                }
                return Answer(status: Int(response.status.code), headers: response.headers, body: collected)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let answer = first else { throw OutboundFailure.timedOut(seconds: seconds) }
            return answer
        }
    }

    /// The body of `url` by GET, following at most `maxRedirects` redirects (each checked like
    /// the first URL); the whole chain must end within `timeout`.
    public func fetch(_ url: String, timeout: Duration, maxBytes: Int, maxRedirects: Int = 5,
                      headers: [(String, String)] = []) async throws -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        var current = url
        for _ in 0...maxRedirects {
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                throw OutboundFailure.timedOut(seconds: Double(timeout.components.seconds))
            }
            let answer = try await send(.GET, current, headers: headers, timeout: left, maxBytes: maxBytes)
            switch answer.status {
            case 200..<300:
                return answer.body
            case 301, 302, 303, 307, 308:
                guard let location = answer.headers.first(name: "Location"),
                      let next = URL(string: location, relativeTo: URL(string: current))?.absoluteURL.absoluteString
                else { throw OutboundFailure.status(answer.status) }
                current = next
            default:
                throw OutboundFailure.status(answer.status)
            }
        }
        throw OutboundFailure.tooManyRedirects
    }
}
