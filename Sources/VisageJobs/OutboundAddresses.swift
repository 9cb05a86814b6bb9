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

    /// Addresses no outgoing request reaches unless allowed: loopback, private (RFC 1918, ULA),
    /// shared (CGNAT), link-local (and the cloud metadata address in it), site-local, multicast,
    /// unspecified, reserved, documentation and benchmarking ranges, and the NAT64 local-use prefix.
    static let privateNetworks: [IPNetwork] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
        "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128", "::1/128", "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    ].compactMap(IPNetwork.init)

    /// Whether an address may not be reached: it lies in a refused range, or it is an IPv6
    /// address that carries a refused IPv4 address (IPv4-compatible, NAT64, 6to4, Teredo) and was
    /// not itself allowed.
    public func refuses(_ address: [UInt8]) -> Bool {
        if allowed.contains(where: { $0.contains(address) }) { return false }
        if Self.privateNetworks.contains(where: { $0.contains(address) }) { return true }
        return Self.embeddedIPv4(address).contains(where: refuses)
    }

    /// The IPv4 addresses an IPv6 address stands for or routes to.
    static func embeddedIPv4(_ address: [UInt8]) -> [[UInt8]] {
        guard address.count == 16 else { return [] }
        let last = Array(address[12...])
        // ::a.b.c.d (IPv4-compatible, deprecated but still parsed by resolvers and clients).
        if address[0..<12].allSatisfy({ $0 == 0 }) { return [last] }
        // 64:ff9b::/96, the well-known NAT64 prefix.
        if address[0..<12] == [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] { return [last] }
        // 2002::/16, 6to4: the IPv4 address follows the prefix.
        if address[0] == 0x20 && address[1] == 0x02 { return [Array(address[2..<6])] }
        // 2001:0::/32, Teredo: the server's address, and the client's inverted in the last bytes.
        if address[0..<4] == [0x20, 0x01, 0, 0] { return [Array(address[4..<8]), last.map { ~$0 }] }
        return []
    }

    /// What a host name may be reached at.
    public enum Resolution: Sendable, Equatable {
        /// The address to connect to (text form), every address of the host having passed.
        case address(String)
        case unresolvable
        /// The host stands for an address on a network no one allowed.
        case refused
    }

    /// Resolves `host` and checks every address it stands for: one refused address refuses the
    /// host, so a name cannot mix a public address with a private one.
    public func resolve(host: String) async -> Resolution {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let addresses = await Self.resolve(bare)
        guard let first = addresses.first else { return .unresolvable }
        if addresses.contains(where: { refuses($0.bytes) }) { return .refused }
        return .address(first.text)
    }

    /// Throws `invalidArgument` naming `field` when the URL's host is unknown or reaches a
    /// refused address.
    public func check(_ url: String, field: String) async throws {
        guard let host = URL(string: url)?.host, !host.isEmpty else {
            throw VisageError.invalidArgument(field: field, message: "has no host")
        }
        switch await resolve(host: host) {
        case .address: return
        case .unresolvable: throw VisageError.invalidArgument(field: field, message: "host \(host) does not resolve")
        case .refused:
            throw VisageError.invalidArgument(
                field: field, message: "host \(host) is on a private network; allow it with VISAGE_ALLOW_NETWORKS")
        }
    }

    /// The addresses a host name stands for, as text and bytes (a literal address stands for itself).
    static func resolve(_ host: String) async -> [(text: String, bytes: [UInt8])] {
        if let literal = IPNetwork.address(host) { return [(host, literal)] }
        return (try? await Blocking.run {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
            defer { freeaddrinfo(first) }
            var addresses: [(text: String, bytes: [UInt8])] = []
            var cursor: UnsafeMutablePointer<addrinfo>? = first
            while let entry = cursor {
                var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
                if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0,
                               NI_NUMERICHOST) == 0 {
                    let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    if let bytes = IPNetwork.address(text) { addresses.append((text, bytes)) }
                }
                cursor = entry.pointee.ai_next
            }
            return addresses
        }) ?? []
    }
}
