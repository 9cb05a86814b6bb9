import Foundation

#if FUZZING
// Built with `-sanitize=fuzzer -DFUZZING` (Benchmarks/fuzz --libfuzzer): libFuzzer drives the
// target named by VISAGE_FUZZ_TARGET, guided by coverage.
let fuzzTarget = FuzzTarget(rawValue: ProcessInfo.processInfo.environment["VISAGE_FUZZ_TARGET"] ?? "") ?? .signatures

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzTarget.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#else

/// `visage-fuzz TARGET [--seconds N] [--seed S] [--inputs DIR] [FILE...]`: replays the target's
/// saved inputs (seeds and past crashes) and the files named, then for N seconds feeds it
/// mutations of them. Each input is written to a memory-mapped file before it runs, so when
/// the process dies the input that killed it is on disk for the caller to keep. An input that
/// takes over a second of CPU time is a failure too. Written here because libFuzzer needs a build of its own
/// (instrumenting every module); this runs in every test build.
@main
struct FuzzDriver {
    static func main() throws {
        // libvips warns on stderr about every broken image; a fuzz run makes nothing else.
        setenv("VIPS_WARNING", "0", 1)
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.parsers.map(\.rawValue).joined(separator: "|")
            FileHandle.standardError.write(Data("usage: visage-fuzz \(names) [--seconds N] [--seed S] [--inputs DIR] [FILE...]\n".utf8))
            exit(2)
        }
        arguments.removeFirst()
        var seconds = 0.0, seed = UInt64.random(in: 1...UInt64.max)
        var inputs = URL(fileURLWithPath: "Tests/FuzzInputs").appendingPathComponent(target.rawValue)
        var files: [URL] = []
        while !arguments.isEmpty {
            let argument = arguments.removeFirst()
            switch argument {
            case "--seconds": seconds = Double(arguments.isEmpty ? "" : arguments.removeFirst()) ?? 0
            case "--seed": seed = UInt64(arguments.isEmpty ? "" : arguments.removeFirst()) ?? seed
            case "--inputs": inputs = URL(fileURLWithPath: arguments.isEmpty ? "." : arguments.removeFirst())
            default: files.append(URL(fileURLWithPath: argument))
            }
        }
        let saved = ((try? FileManager.default.contentsOfDirectory(at: inputs, includingPropertiesForKeys: nil)) ?? [])
            .sorted { $0.path < $1.path }
        let corpus = try (saved + files).map { [UInt8](try Data(contentsOf: $0)) }
        let last = try LastInput(path: ".fuzz-last-input-\(target.rawValue)")
        var runs = 0
        func run(_ input: [UInt8]) {
            last.record(input)
            // CPU time, not wall time: a busy machine's scheduler must not count as a hang.
            let start = Self.cpuNanoseconds()
            target.run(input)
            runs += 1
            if Self.cpuNanoseconds() - start > 1_000_000_000 {
                FileHandle.standardError.write(Data("\(target.rawValue): an input took over a second (kept in \(last.path))\n".utf8))
                exit(1)
            }
        }
        for input in corpus { run(input) }
        var mutator = Mutator(seed: seed, corpus: corpus.isEmpty ? [[]] : corpus, tokens: Mutator.tokens[target] ?? [])
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            for _ in 0..<200 { run(mutator.next()) }
        }
        last.remove()
        print("\(target.rawValue): \(runs) inputs (\(corpus.count) saved) in \(Int(seconds)) s, seed \(seed), no crash")
    }
}

extension FuzzDriver {
    /// The CPU time this thread has used.
    static func cpuNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}

/// The input about to run, in a memory-mapped file: a store per input, no system call.
final class LastInput {
    let path: String
    let capacity = 1 << 20
    let base: UnsafeMutableRawPointer

    init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0, ftruncate(descriptor, off_t(capacity + 8)) == 0,
              let mapped = mmap(nil, capacity + 8, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0), mapped != MAP_FAILED
        else { throw CocoaError(.fileWriteUnknown) }
        close(descriptor)
        base = mapped
    }

    /// The length (8 bytes, little-endian), then the bytes; longer inputs are cut to the capacity.
    func record(_ input: [UInt8]) {
        let count = min(input.count, capacity)
        base.storeBytes(of: UInt64(count).littleEndian, as: UInt64.self)
        input.withUnsafeBytes { base.advanced(by: 8).copyMemory(from: $0.baseAddress!, byteCount: count) }
    }

    func remove() { unlink(path) }
}

/// Random edits of saved inputs: bit flips, interesting bytes, inserted tokens of the target's
/// grammar, deleted, duplicated and spliced ranges. Seeded, so a run can be repeated.
struct Mutator {
    var state: UInt64
    let corpus: [[UInt8]]
    let tokens: [[UInt8]]

    init(seed: UInt64, corpus: [[UInt8]], tokens: [String]) {
        state = seed
        self.corpus = corpus
        self.tokens = tokens.map { Array($0.utf8) }
    }

    /// SplitMix64.
    mutating func random(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(max(bound, 1)))
    }

    mutating func next() -> [UInt8] {
        var input = corpus[random(corpus.count)]
        for _ in 0...random(8) {
            let at = random(input.count + 1)
            switch random(7) {
            case 0 where !input.isEmpty: input[min(at, input.count - 1)] ^= UInt8(1 << random(8))
            case 1 where !input.isEmpty: input[min(at, input.count - 1)] = [0, 0xFF, 0x7F, 0x80, 0x20, 0x0A, 0x3D, 0x25][random(8)]
            case 2 where !tokens.isEmpty: input.insert(contentsOf: tokens[random(tokens.count)], at: at)
            case 3 where !input.isEmpty: input.removeSubrange(at..<min(input.count, at + 1 + random(32)))
            case 4 where !input.isEmpty:
                let start = random(input.count)
                input.insert(contentsOf: input[start..<min(input.count, start + 1 + random(64))], at: at)
            case 5:
                let other = corpus[random(corpus.count)]
                if !other.isEmpty { input.insert(contentsOf: other[random(other.count)...], at: at) }
            default: input.insert(UInt8(random(256)), at: at)
            }
        }
        return Array(input.prefix(256 * 1024))
    }

    static let tokens: [FuzzTarget: [String]] = [
        .signatures: ["AWS4-HMAC-SHA256 ", "OSS4-HMAC-SHA256 ", "ACS3-HMAC-SHA256 ", "OSS ", "AWS ", "Credential=", "SignedHeaders=",
                      "Signature=", "AdditionalHeaders=", "/aws4_request", "/oss4_request", ",", ";", ":", "&", "=", "%", "%2F",
                      "X-Amz-Credential=", "X-Amz-Date=", "X-Amz-Expires=", "x-oss-signature-version=OSS4-HMAC-SHA256",
                      "OSSAccessKeyId=", "Expires=", "SignatureNonce=", "Timestamp=", "20261205T000000Z", "\n"],
        .form: ["&", "=", "%", "%zz", "%E6%97%A5", "+", "%00"],
        .simpleQuery: ["{", "}", "[", "]", "\"Field\":", "\"Operation\":", "\"Value\":", "\"SubQueries\":", "\"and\"", "\"or\"",
                       "\"not\"", "\"eq\"", "\"prefix\"", "\"range\"", "\"match\"", "1e999", "-0", "null", ",", ":"],
        .xmlBodies: ["<CompleteMultipartUpload>", "</CompleteMultipartUpload>", "<Part>", "</Part>", "<PartNumber>", "</PartNumber>",
                     "<ETag>", "</ETag>", "<Delete>", "<Object>", "<Key>", "</Key>", "<Quiet>true</Quiet>", "<CORSConfiguration>",
                     "<CORSRule>", "<AllowedOrigin>", "<AllowedMethod>", "<![CDATA[", "]]>", "&amp;", "&#x0;", "&#99999999;",
                     "<?xml version=\"1.0\"?>", "<!DOCTYPE a [<!ENTITY x \"y\">]>", "&x;", "/>"],
        .policy: ["{", "}", "\"Version\":\"1\"", "\"Statement\":", "\"Effect\":\"Allow\"", "\"Action\":", "\"Resource\":",
                  "\"Condition\":", "\"IpAddress\":", "\"acs:SourceIp\":", "\"Principal\":", "\"*\"", "[", "]", ",", "\"oss:*\""],
        .greenScan: ["{", "}", "\"scenes\":[\"sface-1\"]", "\"tasks\":", "\"url\":", "\"extras\":", "\"faceUrl\":", "\"callback\":",
                     "\"seed\":", "\"dataId\":", "[", "]", ",", "\"http://127.0.0.1/\""],
        .awsChunked: [";chunk-signature=", "\r\n", "0\r\n", "10000", "x-amz-checksum-crc32:", "x-amz-trailer-signature:", "ffffffff"],
        .imageHeader: ["IHDR", "IDAT", "IEND", "GIF89a", "RIFF", "WEBPVP8 ", "II*\0", "MM\0*", "Exif\0\0", "ftypheic", "JFIF"],
    ]
}
#endif
