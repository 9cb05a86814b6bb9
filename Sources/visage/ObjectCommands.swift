import ArgumentParser
import Foundation
import VisageCore
import VisageStore

/// `visage buckets ...`: bucket administration on the local data directory.
struct Buckets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and delete buckets.", subcommands: [Create.self, List.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a bucket owned by the root account.")
        @OptionGroup var data: DataOptions
        @Argument var name: String

        func run() async throws {
            let bucket = try BucketName(name)
            try await data.withObjectStore(creating: true) { objects, account in
                _ = try await objects.createBucket(bucket, ownerAccount: account)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List buckets.")
        @OptionGroup var data: DataOptions

        func run() async throws {
            let buckets = try await data.withObjectStore { objects, _ in try await objects.listBuckets() }
            for bucket in buckets { print(bucket.name) }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete an empty bucket.")
        @OptionGroup var data: DataOptions
        @Argument var name: String

        func run() async throws {
            let bucket = try BucketName(name)
            try await data.withObjectStore { objects, _ in try await objects.deleteBucket(bucket) }
        }
    }
}

/// `visage objects ...`: object transfer on the local data directory.
struct Objects: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upload, download, list and delete objects.", subcommands: [Put.self, Get.self, List.self, Delete.self])

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Upload a file ('-' for standard input).")
        @OptionGroup var data: DataOptions
        @Argument var bucket: String
        @Argument var key: String
        @Argument var file: String
        @Option(name: .customLong("content-type")) var contentType = "application/octet-stream"
        @Flag(name: .customLong("no-progress"), help: "Do not draw a progress bar.") var noProgress = false

        func run() async throws {
            let bucket = try BucketName(bucket)
            let key = try ObjectKey(key)
            let handle = file == "-" ? FileHandle.standardInput : try InputFiles.open(file)
            let total = file == "-" ? nil : (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value
            let progress = ProgressBar(total: total, enabled: !noProgress)
            let chunks = AsyncThrowingStream<[UInt8], any Error> {
                let data = try handle.read(upToCount: 1 << 20) ?? Data()
                guard !data.isEmpty else { return nil }
                progress.advance(by: Int64(data.count))
                return [UInt8](data)
            }
            let info = try await data.withObjectStore(creating: true) { objects, _ in
                try await objects.putObject(
                    bucket: bucket, key: key, attributes: ObjectAttributes(contentType: contentType), body: chunks)
            }
            progress.finish()
            print("\(info.etag)  \(info.size)  \(info.key)")
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Download an object to a file or standard output.")
        @OptionGroup var data: DataOptions
        @Argument var bucket: String
        @Argument var key: String
        @Option(name: .shortAndLong, help: "Output file (default: standard output).") var output: String?

        func run() async throws {
            let bucket = try BucketName(bucket)
            let key = try ObjectKey(key)
            try await data.withObjectStore { objects, _ in
                let read = try await objects.getObject(bucket: bucket, key: key, range: nil)
                let sink: FileHandle
                if let output {
                    _ = FileManager.default.createFile(atPath: output, contents: nil)
                    sink = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
                } else {
                    sink = FileHandle.standardOutput
                }
                for try await chunk in read.body { try sink.write(contentsOf: chunk) }
                if output != nil { try sink.close() }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List objects of a bucket.")
        @OptionGroup var data: DataOptions
        @Argument var bucket: String
        @Option var prefix = ""
        @Option var delimiter = ""

        func run() async throws {
            let bucket = try BucketName(bucket)
            try await data.withObjectStore { objects, _ in
                var request = ObjectListRequest(prefix: prefix, delimiter: delimiter)
                while true {
                    let page = try await objects.listObjects(bucket: bucket, request)
                    for prefix in page.commonPrefixes { print("PRE \(prefix)") }
                    for object in page.objects { print("\(object.size)\t\(object.etag)\t\(object.key)") }
                    guard page.isTruncated, let marker = page.nextMarker else { break }
                    request.startAfter = marker
                }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete an object.")
        @OptionGroup var data: DataOptions
        @Argument var bucket: String
        @Argument var key: String

        func run() async throws {
            let bucket = try BucketName(bucket)
            let key = try ObjectKey(key)
            let existed = try await data.withObjectStore { objects, _ in try await objects.deleteObject(bucket: bucket, key: key) }
            if !existed { throw ValidationError("no such object: \(key)") }
        }
    }
}
