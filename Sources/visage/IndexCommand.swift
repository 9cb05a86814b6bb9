import ArgumentParser
import Crypto
import Foundation
import VisageAccess
import VisageCore
import VisageMedia
import VisageServer
import VisageStore
import VisageVision

/// `visage index DIR --project P --dataset D`: uploads a folder's images and indexes them.
struct Index: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upload a folder's images into a bucket and index them into a dataset (faces, image facts, EXIF).",
        discussion: """
            Files already uploaded with the same content and indexed are skipped, so an interrupted run \
            continues where it stopped. The project and dataset are created when missing. Run it beside \
            a server or alone: it works on the data directory directly.
            """)

    @OptionGroup var data: DataOptions
    @OptionGroup var engine: EngineOptions
    @Argument(help: "The folder to index (searched recursively for JPEG, PNG, WEBP, GIF, BMP, TIFF and HEIF files).")
    var directory: String
    @Option(help: "Media project.") var project: String
    @Option(help: "Dataset of the project.") var dataset: String
    @Option(help: "Bucket the images are uploaded to (created when missing).") var bucket = "visage-index"
    @Option(help: "Key prefix in the bucket (default: the dataset's name and /).") var prefix: String?
    @Option(help: "Files analysed at once (default: the number of cores).") var jobs = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Print each file as it is done.") var verbose = false
    @Flag(name: .customLong("no-progress"), help: "Do not draw the progress bar.") var noProgress = false

    func run() async throws {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        let files = try Self.images(in: root)
        let keyPrefix = prefix ?? "\(dataset)/"
        try await data.withDataDirectory(creating: true) { opened in
            let account = opened.root.credentials.AccountId
            let bucketName = try BucketName(bucket)
            try await opened.ensure(bucket: bucketName, project: project)
            let projects = ProjectCatalog(store: opened.store)
            let datasets = DatasetCatalog(store: opened.store)
            if (try? await datasets.dataset(account: account, project: project, name: dataset)) == nil {
                _ = try await datasets.create(account: account, project: project, name: dataset,
                                              changes: DatasetChanges(templateID: "Official:FaceManagement"))
            }
            let mediaProject = try await projects.project(account: account, name: project)
            let mediaDataset = try await datasets.dataset(account: account, project: project, name: dataset)
            let identities = IdentityDirectory(store: opened.store, keys: AccessKeyDirectory(store: opened.store, box: opened.box))
            let faces = try engine.loadEngine()
            let indexer = FileIndexer(objects: opened.objects, engine: SharedFaceEngine(load: { faces }),
                                      access: ServiceRoleAccess(identities: identities, objects: opened.objects))
            let index = FileIndex(store: opened.store)
            let progress = ProgressBar(total: Int64(files.count), enabled: !noProgress, unit: "files")
            let uris = try files.map { file in "oss://\(bucket)/\(try ObjectKey(keyPrefix + String(file.path.dropFirst(root.path.count + 1))).value)" }
            // Recorded as a task, so the Tasks page shows this run and names the files that failed.
            let run = try await CommandRun.start(store: opened.store, dataset: mediaDataset.key, type: "BatchIndexFileMeta",
                                                 files: uris.map { InputFile(uri: $0) })
            /// What became of one file.
            enum Outcome: Sendable { case indexed, skipped, failed }
            @Sendable func indexFile(_ seq: Int) async throws -> Outcome {
                let file = files[seq]
                let relative = String(file.path.dropFirst(root.path.count + 1))
                let uri = uris[seq]
                do {
                    let key = try ObjectKey(keyPrefix + relative)
                    let bytes = [UInt8](try Data(contentsOf: file))
                    let etag = Insecure.MD5.hash(data: bytes).hexString
                    let stored = try? await opened.objects.headObject(bucket: bucketName, key: key)
                    let document = try await index.document(dataset: mediaDataset.key, uri: uri)
                    if stored?.etag == etag, document?["ETag"]?.stringValue == "\"\(etag.uppercased())\"" {
                        try await run.file(seq, uri: uri)
                        return .skipped
                    }
                    if stored?.etag != etag {
                        _ = try await opened.objects.putObject(
                            bucket: bucketName, key: key,
                            attributes: ObjectAttributes(contentType: Self.contentType(of: file)), bytes: bytes)
                    }
                    let entry = try await indexer.analyze(InputFile(uri: uri), project: mediaProject, dataset: mediaDataset)
                    try await opened.store.withTransaction { db in
                        try await index.write(entry, dataset: mediaDataset.key, now: WallClock.nowMillis(), db: db)
                    }
                    // Unbuffered, so a reader of a pipe sees each file as it is done.
                    if verbose { FileHandle.standardOutput.write(Data("indexed \(uri)\n".utf8)) }
                    try await run.file(seq, uri: uri)
                    return .indexed
                } catch {
                    FileHandle.standardError.write(Data("\n\(relative): \(error)\n".utf8))
                    try await run.file(seq, uri: uri, error: "\(error)")
                    return .failed
                }
            }
            // `jobs` files at once: one decodes while another is in the detector or the network.
            var counts: [Outcome: Int] = [:]
            var done = 0
            try await forEachConcurrently(files.count, limit: jobs, indexFile) { _, outcome in
                counts[outcome, default: 0] += 1
                done += 1
                progress.advance(by: 1)
                try await run.progress(Double(done) / Double(files.count))
            }
            let (indexed, skipped, failed) = (counts[.indexed] ?? 0, counts[.skipped] ?? 0, counts[.failed] ?? 0)
            progress.finish()
            try await run.end(failure: failed > 0 ? "\(failed) of \(files.count) files failed" : nil)
            print("indexed \(indexed), already indexed \(skipped), failed \(failed) of \(files.count) files into \(project)/\(dataset)")
            if failed > 0 { throw ExitCode(1) }
        }
    }

    /// Image files under the folder, in a stable order.
    static func images(in root: URL) throws -> [URL] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isFolder) else {
            throw CommandFailure("cannot read \(root.path): no such file or directory")
        }
        guard isFolder.boolValue else { throw CommandFailure("\(root.path) is not a folder") }
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw ValidationError("cannot read \(root.path)")
        }
        var found: [URL] = []
        for case let url as URL in walker where DatasetBindings.imageExtensions.contains(url.pathExtension.lowercased()) {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true { found.append(url.standardizedFileURL) }
        }
        // Nothing to do is a mistake worth an error, and nothing is created for it.
        guard !found.isEmpty else {
            throw CommandFailure("no images in \(root.path) (JPEG, PNG, WEBP, GIF, BMP, TIFF or HEIF files)")
        }
        return found.sorted { $0.path < $1.path }
    }

    static func contentType(of file: URL) -> String {
        switch file.pathExtension.lowercased() {
        case "jpg", "jpeg": return "image/jpeg"
        case "tif", "tiff": return "image/tiff"
        case "heic", "heif": return "image/heif"
        case let other: return "image/\(other)"
        }
    }
}
