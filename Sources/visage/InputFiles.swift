import ArgumentParser
import Foundation

/// A command that could not do its work, for a reason in the data rather than in its arguments:
/// printed as one line, without the usage text, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Files named on the command line, read with errors in one line that name the file and the
/// cause ("cannot read a.jpg: no such file"), never Foundation's error dump.
enum InputFiles {
    static func read(_ path: String) throws -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CommandFailure("cannot read \(path): \(reason(error))")
        }
    }

    static func open(_ path: String) throws -> FileHandle {
        do {
            return try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        } catch {
            throw CommandFailure("cannot read \(path): \(reason(error))")
        }
    }

    /// The operating system's reason, in words.
    static func reason(_ error: any Error) -> String {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let posix = underlying, posix.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(posix.code))).lowercased() }
        if (error as NSError).domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32((error as NSError).code))).lowercased() }
        switch (error as? CocoaError)?.code {
        case .fileReadNoSuchFile?, .fileNoSuchFile?: return "no such file or directory"
        case .fileReadNoPermission?: return "permission denied"
        default: return error.localizedDescription
        }
    }
}
