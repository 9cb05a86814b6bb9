import Testing
import VisageCore
@testable import VisageJobs

@Suite("Outbound address policy")
struct OutboundAddressesTests {
    static let refused = [
        "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "255.255.255.255", "192.0.0.8", "192.0.2.10", "198.18.0.1", "198.51.100.7", "203.0.113.9",
        "::", "::1", "fe80::1", "fec0::1", "fc00::1", "fd12:3456::1", "ff02::1", "2001:db8::1", "100::1",
        // IPv6 forms that carry a refused IPv4 address.
        "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::10.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::1", "2002:7f00:1::1", "2002:a00:1::", "2001:0:7f00:1::1", "2001:0:4136:e378:8000:63bf:80ff:fffe",
    ]
    static let reachable = [
        "8.8.8.8", "1.1.1.1", "93.184.216.34", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "2a00:1450:4001::200e",
        "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
    ]

    @Test("special IPv4 and IPv6 ranges are refused, also inside IPv6 forms that carry an IPv4 address", arguments: refused)
    func refusesSpecialRanges(_ text: String) throws {
        let address = try #require(IPNetwork.address(text))
        #expect(OutboundAddresses(allowed: []).refuses(address))
    }

    @Test("public addresses are reachable", arguments: reachable)
    func allowsPublicAddresses(_ text: String) throws {
        let address = try #require(IPNetwork.address(text))
        #expect(!OutboundAddresses(allowed: []).refuses(address))
    }

    @Test("an allowed network opens its addresses and the IPv6 forms that carry them, and nothing else")
    func allowedNetworks() throws {
        let policy = OutboundAddresses(allowed: [try #require(IPNetwork("127.0.0.0/8"))])
        for text in ["127.0.0.1", "::127.0.0.1", "::ffff:127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1"] {
            #expect(!policy.refuses(try #require(IPNetwork.address(text))), "\(text)")
        }
        for text in ["10.0.0.1", "::1", "169.254.169.254", "2002:a00:1::"] {
            #expect(policy.refuses(try #require(IPNetwork.address(text))), "\(text)")
        }
    }

    @Test("a host name is resolved and every address it stands for is checked")
    func resolution() async {
        let policy = OutboundAddresses(allowed: [])
        #expect(await policy.resolve(host: "localhost") == .refused)
        #expect(await policy.resolve(host: "[::127.0.0.1]") == .refused)
        #expect(await policy.resolve(host: "8.8.8.8") == .address("8.8.8.8"))
        #expect(await policy.resolve(host: "no-such-host.invalid") == .unresolvable)
    }
}
