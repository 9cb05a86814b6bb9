import ArgumentParser
import Crypto
import Foundation
import VisageCore
import VisageStore

/// `visage bench checksum`: what the CRC-64 every stored object gets costs, next to the MD5 it
/// always had and to a whole PUT into the local store (write, fsync, catalog row).
struct BenchChecksum: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checksum", abstract: "CRC-64 and MD5 cost per object, against a whole store PUT of the same size.")

    @OptionGroup var store: BenchStoreOptions
    @Option(help: "Object size in MiB.") var megabytes = 64
    @Option(help: "Rounds; medians are reported.") var rounds = 9

    func run() async throws {
        // Request bodies reach the store in chunks of this size or smaller.
        let chunk = 64 * 1024
        var generator = SystemRandomNumberGenerator()
        let chunks = (0..<(megabytes * 1024 * 1024 / chunk)).map { _ in (0..<chunk).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        let clock = ContinuousClock()
        var md5Times: [Duration] = [], crcTimes: [Duration] = [], putTimes: [Duration] = []
        for _ in 0..<rounds {
            var began = clock.now
            var md5 = Insecure.MD5()
            for piece in chunks { md5.update(data: piece) }
            _ = md5.finalize()
            md5Times.append(clock.now - began)
            began = clock.now
            var crc = CRC64()
            for piece in chunks { crc.update(piece) }
            crcTimes.append(clock.now - began)
        }
        try await store.withStore { metadata in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("visage-bench-objects-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            let objects = CatalogObjectStore(blobs: try LocalBlobFiles(root: folder), store: metadata)
            let bucket = try BucketName("bench")
            _ = try await objects.createBucket(bucket, ownerAccount: "bench")
            for round in 0..<rounds {
                let body = AsyncThrowingStream<[UInt8], any Error> { continuation in
                    for piece in chunks { continuation.yield(piece) }
                    continuation.finish()
                }
                let began = clock.now
                _ = try await objects.putObject(bucket: bucket, key: try ObjectKey("o\(round)"), attributes: .init(), body: body)
                putTimes.append(clock.now - began)
            }
        }
        let median = { (values: [Duration]) in Measure.quantile(values.sorted(), 0.5) }
        let rate = { (ms: Double) in Double(megabytes) / (ms / 1000) }
        let (md5, crc, put) = (median(md5Times), median(crcTimes), median(putTimes))
        print("| \(megabytes) MiB in 64 KiB chunks, \(rounds) rounds | median ms | MiB/s | share of a store PUT |")
        print("| --- | --- | --- | --- |")
        for (label, ms) in [("MD5 (the ETag)", md5), ("CRC-64/ECMA (ISA-L)", crc), ("store PUT: MD5 + CRC-64 + write + fsync + catalog", put)] {
            print(String(format: "| %@ | %.1f | %.0f | %.3f |", label, ms, rate(ms), ms / put))
        }
    }
}
