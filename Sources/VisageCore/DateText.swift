/// A guard in front of Foundation's date parsers. On Linux, `DateFormatter.date(from:)` stops the
/// process with a fatal error on some non-ASCII text (a UTF-16 range mismatch inside it), and a
/// date header is the caller's to choose: every date a request carries goes through here first.
public enum DateText {
    /// Whether `text` may be handed to a date formatter: short, printable ASCII.
    public static func parseable(_ text: String) -> Bool {
        text.utf8.count <= 64 && text.utf8.allSatisfy { (0x20...0x7E).contains($0) }
    }
}
