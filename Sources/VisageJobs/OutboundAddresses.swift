import Foundation
import VisageCore

/// Keeps outgoing requests (webhooks, image URLs) off private networks: a URL whose host
/// resolves to a loopback, private, link-local, shared, multicast or unspecified address is
/// refused unless that address lies in a network the operator allowed.
public struct OutboundAddresses: Sendable {
    let allowed: [IPNetwork]

    public init(allowed: [IPNetwork]) {
        self.allowed = allowed
    }

    static let privateNetworks: [IPNetwork] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
        "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
    ].compactMap(IPNetwork.init)

    /// Throws `invalidArgument` naming `field` when the URL's host is unknown or reaches a
    /// refused address.
    public func check(_ url: String, field: String) async throws {
        guard let host = URL(string: url)?.host?.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), !host.isEmpty else {
            throw VisageError.invalidArgument(field: field, message: "has no host")
        }
        let addresses = await Self.resolve(host)
        guard !addresses.isEmpty else { throw VisageError.invalidArgument(field: field, message: "host \(host) does not resolve") }
        for address in addresses where Self.privateNetworks.contains(where: { $0.contains(address) }) {
            guard allowed.contains(where: { $0.contains(address) }) else {
                throw VisageError.invalidArgument(
                    field: field, message: "host \(host) is on a private network; allow it with VISAGE_NOTIFY_ALLOW_NETWORKS")
            }
        }
    }

    /// The addresses a host name stands for (a literal address stands for itself).
    static func resolve(_ host: String) async -> [[UInt8]] {
        if let literal = IPNetwork.address(host) { return [literal] }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var hints = addrinfo()
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
                var list: UnsafeMutablePointer<addrinfo>?
                guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return continuation.resume(returning: []) }
                defer { freeaddrinfo(first) }
                var addresses: [[UInt8]] = []
                var cursor: UnsafeMutablePointer<addrinfo>? = first
                while let entry = cursor {
                    var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
                    if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0,
                                   NI_NUMERICHOST) == 0,
                       let address = IPNetwork.address(String(cString: buffer)) {
                        addresses.append(address)
                    }
                    cursor = entry.pointee.ai_next
                }
                continuation.resume(returning: addresses)
            }
        }
    }
}
