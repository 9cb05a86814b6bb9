import Foundation

/// Generators for the identifiers Visage hands out; all draw from the system's secure random source.
public enum Identifiers {
    private static let upperAlphanumerics = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    private static let alphanumerics = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    /// A request id in the upper-case UUID form Alibaba Cloud services use for `RequestId`.
    public static func requestID() -> String {
        UUID().uuidString
    }

    /// A 16-digit account id, the shape of an Alibaba Cloud account UID.
    public static func accountID() -> String {
        numericID()
    }

    /// A 16-digit id with no leading zero, as RAM gives users and roles.
    public static func numericID() -> String {
        var generator = SystemRandomNumberGenerator()
        let first = String(Int.random(in: 1...9, using: &generator))
        return first + (0..<15).map { _ in String(Int.random(in: 0...9, using: &generator)) }.joined()
    }

    /// A long-term access key id: `LTAI` followed by 20 characters, as Alibaba Cloud issues them.
    public static func accessKeyID() -> String {
        "LTAI" + randomString(count: 20, from: alphanumerics)
    }

    /// An access key secret of 30 characters.
    public static func accessKeySecret() -> String {
        randomString(count: 30, from: alphanumerics)
    }

    /// A temporary access key id: `STS.` followed by 24 characters.
    public static func temporaryAccessKeyID() -> String {
        "STS." + randomString(count: 24, from: alphanumerics)
    }

    /// An event id in the shape of the media service's: three hex digits, a dash and 27
    /// letters and digits.
    public static func eventID() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = String(Int.random(in: 0..<4096, using: &generator), radix: 16, uppercase: true)
        return String(repeating: "0", count: 3 - hex.count) + hex + "-" + randomString(count: 27, from: alphanumerics)
    }

    /// An opaque id for internal records (lower-case hex, 128 bits).
    public static func opaque() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let value = generator.next() as UInt64
            let hex = String(value, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    static func randomString(count: Int, from alphabet: [Character]) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
