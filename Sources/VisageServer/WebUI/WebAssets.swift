import Foundation
import Hummingbird
import NIOCore

/// The web UI's static files, read once at start-up into memory. Requests are answered from this
/// table only, so no request path ever reaches the file system.
public struct WebAssets: Sendable {
    struct Asset: Sendable {
        let bytes: ByteBuffer
        let contentType: String
    }

    private let assets: [String: Asset]

    /// Loads every file under `directory`; nil directory means the files built into the package.
    public init(directory: URL? = nil) throws {
        guard let root = directory ?? Self.builtInDirectory() else {
            throw HTTPError(.serviceUnavailable, message: "The web UI files were not found next to the executable.")
        }
        var assets: [String: Asset] = [:]
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let relative = String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1))
            let data = try Data(contentsOf: url)
            assets[relative] = Asset(bytes: ByteBuffer(bytes: data), contentType: Self.contentType(of: url.pathExtension))
        }
        self.assets = assets
    }

    func response(for path: String) -> Response? {
        let name = path.isEmpty ? "index.html" : path
        guard let asset = assets[name] else { return nil }
        return Response(
            status: .ok,
            headers: [.contentType: asset.contentType, .cacheControl: "no-cache",
                      .contentSecurityPolicy: "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'"],
            body: .init(byteBuffer: asset.bytes))
    }

    /// SwiftPM copies the files into `visage_VisageServer.resources` beside the built executable.
    static func builtInDirectory() -> URL? {
        let bundleName = "visage_VisageServer.resources"
        var candidates = [Bundle.main.bundleURL, Bundle.main.executableURL?.deletingLastPathComponent()].compactMap { $0 }
        candidates += Bundle.allBundles.map(\.bundleURL)
        for base in candidates {
            let url = base.appendingPathComponent(bundleName).appendingPathComponent("static")
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("index.html").path) { return url }
        }
        return nil
    }

    static func contentType(of fileExtension: String) -> String {
        switch fileExtension.lowercased() {
        case "html": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js": return "text/javascript; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "json": return "application/json"
        default: return "application/octet-stream"
        }
    }
}

/// Serves the web UI under `/ui/`.
struct WebUIRoutes {
    let assets: WebAssets

    func add(to router: Router<VisageContext>) {
        // The router matches `/ui` and `/ui/` alike; only the bare form is sent on, so relative
        // links in the page resolve under `/ui/`.
        router.get("ui") { request, _ -> Response in
            guard request.uri.path.hasSuffix("/"), let index = assets.response(for: "") else {
                return Response.redirect(to: "/ui/", type: .found)
            }
            return index
        }
        router.get("favicon.ico") { _, _ in Response.redirect(to: "/ui/favicon.svg", type: .permanent) }
        router.get("ui/**") { request, context -> Response in
            let path = context.parameters.getCatchAll().joined(separator: "/")
            guard let response = assets.response(for: path) else {
                throw HTTPError(.notFound, message: "No page at \(request.uri.path).")
            }
            return response
        }
    }
}
