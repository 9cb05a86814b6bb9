import Foundation
import Testing
import VisageVision

/// The shared test photos, beside the project.
enum TestData {
    static let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/testdata")

    struct Entry: Decodable {
        let name: String
        let format: String
        let width: Int
        let height: Int
    }

    struct Manifest: Decodable { let files: [Entry] }

    static func manifest(_ set: String) throws -> [Entry] {
        try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: shared.appendingPathComponent("\(set)/manifest.json"))).files
    }

    static func bytes(_ set: String, _ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: shared.appendingPathComponent("\(set)/\(name)")))
    }
}

@Suite("Image decoding")
struct ImageDecoderTests {
    let decoder = ImageDecoder()

    @Test("every test photo decodes to its manifest size", arguments: ["faces", "faces-east-asia"])
    func testPhotos(set: String) throws {
        let entries = try TestData.manifest(set)
        #expect(entries.count > 60)
        for entry in entries {
            let (header, image) = try decoder.decode(TestData.bytes(set, entry.name))
            #expect(header.storedWidth == entry.width && header.storedHeight == entry.height, "\(entry.name)")
            #expect(image.width == header.width && image.height == header.height, "\(entry.name)")
            #expect(image.pixels.count == image.width * image.height * 3)
            let expected = entry.format == "jpg" ? "jpeg" : entry.format
            #expect(header.format == expected, "\(entry.name)")
        }
    }

    @Test("the EXIF orientation is applied and reported")
    func orientation() throws {
        // A 40×20 image, left half red, right half blue, stored with orientation 6 (rotate 90° clockwise).
        var pixels: [UInt8] = []
        for _ in 0..<20 { for x in 0..<40 { pixels += x < 20 ? [255, 0, 0] : [0, 0, 255] } }
        let jpeg = try ImageEncoder.jpeg(RGBImage(width: 40, height: 20, pixels: pixels), quality: 95, orientation: 6)
        let (header, image) = try decoder.decode(jpeg)
        #expect(header.orientation == 6 && header.storedWidth == 40 && header.storedHeight == 20)
        #expect(header.width == 20 && header.height == 40)
        #expect(image.width == 20 && image.height == 40)
        #expect(header.exif["Orientation"]?.hasPrefix("6") == true)
        // After the rotation the red half is on top.
        let top = Array(image.pixels[(5 * 20 + 10) * 3..<(5 * 20 + 10) * 3 + 3])
        let bottom = Array(image.pixels[(35 * 20 + 10) * 3..<(35 * 20 + 10) * 3 + 3])
        #expect(top[0] > 200 && top[2] < 60)
        #expect(bottom[2] > 200 && bottom[0] < 60)
    }

    @Test("decoding at half size: JPEG scaled by the decoder, PNG averaged, orientation still applied")
    func shrinkOnLoad() throws {
        // 80×40, left half red, right half blue, stored with orientation 6.
        var pixels: [UInt8] = []
        for _ in 0..<40 { for x in 0..<80 { pixels += x < 40 ? [255, 0, 0] : [0, 0, 255] } }
        let source = RGBImage(width: 80, height: 40, pixels: pixels)
        for encoded in [try ImageEncoder.jpeg(source, quality: 95, orientation: 6), try ImageEncoder.png(source)] {
            let (header, image) = try decoder.decode(encoded, shrink: 2)
            #expect(header.storedWidth == 80 && header.storedHeight == 40, "the header keeps the stored size")
            let rotated = header.orientation == 6
            #expect(image.width == (rotated ? 20 : 40) && image.height == (rotated ? 40 : 20))
            // The red half stays where the orientation puts it (top when rotated, left otherwise).
            let first = Array(image.pixels[(2 * image.width + 2) * 3..<(2 * image.width + 2) * 3 + 3])
            let last = Array(image.pixels[((image.height - 3) * image.width + image.width - 3) * 3..<((image.height - 3) * image.width + image.width - 3) * 3 + 3])
            #expect(first[0] > 200 && first[2] < 60)
            #expect(last[2] > 200 && last[0] < 60)
        }
    }

    @Test("PNG with alpha and greyscale come out as 3-band RGB")
    func channels() throws {
        let png = try ImageEncoder.png(RGBImage(width: 3, height: 2, pixels: [UInt8](repeating: 128, count: 18)))
        let (header, image) = try decoder.decode(png)
        #expect(header.format == "png" && image.pixels == [UInt8](repeating: 128, count: 18))
    }

    @Test("bad input is refused with a specific error and no large allocation")
    func badInput() throws {
        let photo = try TestData.bytes("faces", "img1.jpg")
        #expect(throws: ImageError.empty) { try decoder.decode([UInt8]()) }
        #expect(throws: ImageError.unsupportedFormat) { try decoder.decode(Array("just some text, not an image\n".utf8)) }
        #expect(throws: ImageError.unsupportedFormat) { try decoder.decode(Array("%PDF-1.4\n".utf8) + [UInt8](repeating: 0x20, count: 100)) }
        // Truncated JPEG: the header is fine, the pixels are missing.
        #expect {
            try decoder.decode(Array(photo.prefix(photo.count / 2)))
        } throws: { error in
            if case .corrupt = error as? ImageError { return true }
            return false
        }
        // A well-formed PNG whose header declares 60,000 × 60,000 pixels, in about 1 KB.
        let huge = Self.png(width: 60_000, height: 60_000, data: [UInt8](repeating: 0, count: 1000))
        #expect(huge.count < 1100)
        #expect(throws: ImageError.tooManyPixels(width: 60_000, height: 60_000, limit: 50_000_000)) { try decoder.decode(huge) }
        // A PNG whose header lies about its size: declared 4000 × 4000, data for none of it.
        let lying = Self.png(width: 4000, height: 4000, data: [UInt8](repeating: 7, count: 64))
        #expect {
            try decoder.decode(lying)
        } throws: { error in
            if case .corrupt = error as? ImageError { return true }
            return false
        }
        let small = ImageDecoder(maxInputBytes: 1000)
        #expect(throws: ImageError.tooLarge(bytes: photo.count, limit: 1000)) { try small.decode(photo) }
    }

    /// A PNG file of well-formed chunks (8-bit RGB) whose IDAT holds `data` as it is.
    static func png(width: UInt32, height: UInt32, data: [UInt8]) -> [UInt8] {
        func be(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
        func chunk(_ type: String, _ payload: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + payload
            return be(UInt32(payload.count)) + body + be(crc32(body))
        }
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            + chunk("IHDR", be(width) + be(height) + [8, 2, 0, 0, 0]) + chunk("IDAT", data) + chunk("IEND", [])
    }

    @Test("HEIF decodes, and its faces are found")
    func heif() async throws {
        let (_, photo) = try ImageDecoder().decode(TestData.bytes("faces", "img1.jpg"))
        let encoded = try ImageEncoder.heif(photo)
        let (header, image) = try ImageDecoder().decode(encoded)
        #expect(header.format == "heif" && image.width == photo.width && image.height == photo.height)
        #expect(try await sharedDetector.get().detect(image).count == 1)
    }

    @Test("BMP decodes")
    func bmp() throws {
        // 2×2, 24-bit, bottom-up rows padded to 4 bytes: blue, green / red, white.
        func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> ($0 * 8)) } }
        func le16(_ v: Int) -> [UInt8] { (0..<2).map { UInt8(truncatingIfNeeded: v >> ($0 * 8)) } }
        let rows: [UInt8] = [0, 0, 255, 255, 255, 255, 0, 0] + [255, 0, 0, 0, 255, 0, 0, 0]
        let header = Array("BM".utf8) + le32(54 + rows.count) + le32(0) + le32(54)
            + le32(40) + le32(2) + le32(2) + le16(1) + le16(24) + le32(0) + le32(rows.count) + le32(2835) + le32(2835)
            + le32(0) + le32(0)
        let (info, image) = try decoder.decode(header + rows)
        #expect(info.format == "bmp" && image.width == 2 && image.height == 2)
        #expect(Array(image.pixels[0..<3]) == [0, 0, 255])  // top-left blue
        #expect(Array(image.pixels[9..<12]) == [255, 255, 255])  // bottom-right white
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

@Suite("Image decoding errors")
struct ImageDecodingErrorTests {
    /// A JPEG that decodes with a libjpeg warning ("premature end of data segment"): its scan is
    /// cut in the middle and the end marker follows at once.
    static func warningJPEG() throws -> [UInt8] {
        let photo = try TestData.bytes("faces", "img1.jpg")
        return Array(photo.prefix(photo.count / 2)) + [0xFF, 0xD9]
    }

    @Test("each failure reports its own cause, never another image's warnings, also when decodes overlap")
    func isolation() async throws {
        let decoder = ImageDecoder()
        let warned = try Self.warningJPEG()
        _ = try decoder.decode(warned)
        let lying = ImageDecoderTests.png(width: 4000, height: 4000, data: [UInt8](repeating: 7, count: 64))
        func message(_ bytes: [UInt8]) -> String? {
            do {
                _ = try decoder.decode(bytes)
                return nil
            } catch let ImageError.corrupt(text) {
                return text
            } catch {
                return "\(error)"
            }
        }
        let alone = try #require(message(lying))
        #expect(!alone.localizedCaseInsensitiveContains("jpeg"), "\(alone)")
        let messages = await withTaskGroup(of: String?.self) { group in
            for index in 0..<16 {
                group.addTask { index.isMultiple(of: 2) ? (try? decoder.decode(warned)).map { _ in "" } : message(lying) }
            }
            return await group.reduce(into: [String?]()) { $0.append($1) }
        }
        for text in messages.compactMap({ $0 }).filter({ !$0.isEmpty }) {
            #expect(text == alone)
        }
    }
}
