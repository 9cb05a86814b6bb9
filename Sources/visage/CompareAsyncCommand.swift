import ArgumentParser
import Crypto
import Foundation
import Logging
import VisageCore
import VisageJobs
import VisageMedia
import VisageServer
import VisageStore
import VisageVision

/// `visage compare-async`: many pairs through the durable comparison queue, with a progress bar.
struct CompareAsync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare-async",
        abstract: "Queue 1:1 face comparisons (image files or http(s) URLs), wait for them and print one JSON line per pair.",
        discussion: """
            Pairs come from --pairs FILE (one pair a line: two paths or URLs separated by a tab or spaces; \
            - reads standard input) or from two arguments. Files are stored in the bucket visage-compare \
            and read from there; URLs are fetched with the server's rules (http and https only, public \
            addresses unless VISAGE_ALLOW_NETWORKS allows more, 3 s and 20 MB per image). The pairs are \
            the same durable tasks Content Moderation's asyncscan queues: a server running on the same \
            data directory shares the work, and an interrupted run leaves them queued for it. Each line: \
            {"First", "Second", "TaskId", "Similarity", "SamePerson"} or {"First", "Second", "Error"}.
            """)

    @OptionGroup var data: DataOptions
    @Option(help: "A file of pairs, one a line (- for standard input).") var pairs: String?
    @Option(help: "Comparisons run at once (env VISAGE_COMPARE_WORKERS, default 2).") var workers: Int?
    @Flag(name: .customLong("no-progress"), help: "Do not draw the progress bar.") var noProgress = false
    @Argument(help: "Two images (paths or URLs), when no --pairs file is given.") var images: [String] = []

    static let bucket = "visage-compare"

    func validate() throws {
        guard (pairs == nil) != images.isEmpty else { throw ValidationError("give either --pairs FILE or two images") }
        if pairs == nil, images.count != 2 { throw ValidationError("give exactly two images, or a --pairs file") }
    }

    func run() async throws {
        let list = try readPairs()
        // A file that cannot be read fails the command before the data directory is touched.
        for image in Set(list.flatMap { [$0.0, $0.1] }) where !Self.isURL(image) && !FileManager.default.isReadableFile(atPath: image) {
            _ = try InputFiles.read(image)
        }
        let notifications = try NotificationSettings.fromEnvironment()
        try await data.withDataDirectory(creating: true) { opened in
            let account = opened.root.credentials.AccountId
            var settings = ComparisonSettings()
            settings.workers = workers ?? Environment.value("VISAGE_COMPARE_WORKERS").flatMap(Int.init) ?? settings.workers
            let outbox = NotificationOutbox(store: opened.store, settings: notifications)
            let comparisons = FaceComparisons(
                store: opened.store, queue: TaskQueue(store: opened.store), outbox: outbox,
                comparison: PairComparison(objects: opened.objects, engine: SharedFaceEngine(), outbound: outbox.outbound),
                settings: settings, formats: [:])
            var submissions: [ComparisonSubmission] = []
            for (first, second) in list {
                let reference = String(decoding: try JSONEncoder().encode([first, second]), as: UTF8.self)
                submissions.append(ComparisonSubmission(reference: reference, first: try await source(first, opened: opened, account: account),
                                                        second: try await source(second, opened: opened, account: account)))
            }
            let ids = try await comparisons.submit(submissions, accountID: account, origin: "visage", idPrefix: "cmp",
                                                   callback: nil, requestID: Identifiers.opaque())
            let progress = ProgressBar(total: Int64(ids.count), enabled: !noProgress, unit: "pairs")
            var logger = Logger(label: "visage.compare")
            logger.logLevel = .warning
            let pool = comparisons.workers(logger: logger)
            let records = try await withThrowingTaskGroup(of: [String: ComparisonRecord]?.self) { group in
                group.addTask {
                    try await pool.run()
                    return nil
                }
                group.addTask { try await Self.wait(for: ids, in: comparisons, account: account, progress: progress) }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    if let records = next { return records }
                }
                return [:]
            }
            progress.finish()
            for ((first, second), id) in zip(list, ids) {
                print(Self.line(first: first, second: second, id: id, record: records[id]))
            }
        }
    }

    /// Polls until every pair is finished, advancing the bar as they finish.
    static func wait(for ids: [String], in comparisons: FaceComparisons, account: String,
                     progress: ProgressBar) async throws -> [String: ComparisonRecord] {
        var reported = 0
        while true {
            var records: [String: ComparisonRecord] = [:]
            for start in stride(from: 0, to: ids.count, by: 500) {
                records.merge(try await comparisons.records(Array(ids[start..<min(ids.count, start + 500)]), accountID: account)) { a, _ in a }
            }
            let finished = records.values.filter { $0.state != .pending }.count
            if finished > reported {
                progress.advance(by: Int64(finished - reported))
                reported = finished
            }
            if finished == ids.count { return records }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    static func line(first: String, second: String, id: String, record: ComparisonRecord?) -> String {
        var body: [String: Any] = ["First": first, "Second": second, "TaskId": id]
        switch record?.state {
        case let .finished(.compared(result)):
            body["Similarity"] = (result.similarity * 10000).rounded() / 10000
            body["SamePerson"] = result.samePerson
        case let .finished(.failed(failure)): body["Error"] = failure.description
        case .expired: body["Error"] = "the result has expired"
        case .pending, nil: body["Error"] = "not finished"
        }
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// The pairs to compare, in order.
    func readPairs() throws -> [(String, String)] {
        guard let pairs else { return [(images[0], images[1])] }
        let text = pairs == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            : String(decoding: try InputFiles.read(pairs), as: UTF8.self)
        var list: [(String, String)] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count == 2 else { throw ValidationError("line \(number + 1) of \(pairs): expected two images, found \(fields.count) fields") }
            list.append((String(fields[0]), String(fields[1])))
        }
        guard !list.isEmpty else { throw ValidationError("\(pairs) lists no pairs") }
        return list
    }

    static func isURL(_ image: String) -> Bool { image.hasPrefix("http://") || image.hasPrefix("https://") }

    /// A URL is fetched by the worker; a file is stored in the bucket (by content, so a file
    /// named twice is stored once) and read from there.
    func source(_ image: String, opened: OpenedDataDirectory, account: String) async throws -> ImageSource {
        if Self.isURL(image) { return .web(image) }
        let bytes = [UInt8](try InputFiles.read(image))
        let bucket = try BucketName(Self.bucket)
        if (try? await opened.objects.bucket(bucket)) == nil {
            _ = try await opened.objects.createBucket(bucket, ownerAccount: account)
        }
        let key = try ObjectKey("pairs/" + SHA256.hash(data: bytes).hexString)
        if (try? await opened.objects.headObject(bucket: bucket, key: key)) == nil {
            _ = try await opened.objects.putObject(bucket: bucket, key: key, attributes: ObjectAttributes(), bytes: bytes)
        }
        return .object(bucket: bucket.value, key: key.value)
    }
}
