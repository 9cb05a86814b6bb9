import CVips
import Foundation
import VisageCore
import Synchronization

/// Why an image could not be decoded.
public enum ImageError: Error, Equatable, Sendable, Codable, CustomStringConvertible {
    case empty
    case tooLarge(bytes: Int, limit: Int)
    case tooManyPixels(width: Int, height: Int, limit: Int)
    case unsupportedFormat
    case corrupt(String)

    public var description: String {
        switch self {
        case .empty: return "the image is empty"
        case let .tooLarge(bytes, limit): return "the image is \(bytes) bytes; the limit is \(limit)"
        case let .tooManyPixels(width, height, limit):
            return "the image is \(width)×\(height) pixels; the limit is \(limit) pixels"
        case .unsupportedFormat: return "the data is not an image in a supported format (JPEG, PNG, WEBP, GIF, BMP, TIFF, HEIF)"
        case let .corrupt(detail): return "the image data is damaged: \(detail)"
        }
    }
}

/// What the header says, read without decoding pixels.
public struct ImageHeader: Sendable, Equatable {
    public let format: String
    /// Size as stored, before the EXIF orientation is applied.
    public let storedWidth: Int
    public let storedHeight: Int
    /// EXIF orientation, 1–8 (1 when absent).
    public let orientation: Int
    /// EXIF tags by name (e.g. `Make`, `DateTimeOriginal`), values as text.
    public let exif: [String: String]

    /// Size as displayed: orientations 5–8 swap width and height.
    public var width: Int { orientation >= 5 ? storedHeight : storedWidth }
    public var height: Int { orientation >= 5 ? storedWidth : storedHeight }
}

/// A decoded image: 8-bit sRGB, 3 bytes a pixel, rows top to bottom, upright.
public struct RGBImage: Sendable {
    public let width: Int
    public let height: Int
    public let pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "pixel buffer does not match the size")
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// Decodes images with libvips: JPEG, PNG, WEBP, GIF (first frame), BMP, TIFF, and HEIF where the
/// installed libvips has it. Limits are checked before pixels are allocated: the byte size first,
/// then the pixel count from the header.
public struct ImageDecoder: Sendable {
    public var maxInputBytes: Int
    public var maxPixels: Int

    public init(maxInputBytes: Int = 20 * 1024 * 1024, maxPixels: Int = 50_000_000) {
        self.maxInputBytes = maxInputBytes
        self.maxPixels = maxPixels
        Vips.ensureStarted()
    }

    /// Reads the header only.
    public func header(of data: some ContiguousBytes) throws -> ImageHeader {
        try Vips.exclusive { try data.withUnsafeBytes { bytes in
            let image = try open(bytes)
            defer { visage_vips_unref(image.pointer) }
            return image.header
        } }
    }

    /// Decodes to upright 8-bit RGB, with the header it was decoded from. With `shrink` above 1
    /// the image is decoded at about 1/`shrink` of its size (a power of two): JPEGs are scaled by
    /// the decoder itself, other formats averaged while their rows stream in, so a large image
    /// never exists in memory at full size.
    public func decode(_ data: some ContiguousBytes, shrink: Int = 1) throws -> (header: ImageHeader, image: RGBImage) {
        try Vips.exclusive { try data.withUnsafeBytes { bytes in
            let opened = try open(bytes)
            defer { visage_vips_unref(opened.pointer) }
            var source = opened.pointer
            if shrink > 1 {
                var smaller: UnsafeMutablePointer<VipsImage>?
                if opened.header.format == "jpeg", [2, 4, 8].contains(shrink) {
                    smaller = visage_vips_open_jpeg_shrunk(bytes.baseAddress, bytes.count, Int32(shrink))
                } else if visage_vips_shrink(opened.pointer, Int32(shrink), &smaller) != 0 {
                    smaller = nil
                }
                guard let smaller else { throw Vips.lastError() }
                source = smaller
            }
            defer { if source != opened.pointer { visage_vips_unref(source) } }
            var rotated: UnsafeMutablePointer<VipsImage>?
            guard visage_vips_autorot(source, &rotated) == 0, let rotated else { throw Vips.lastError() }
            defer { visage_vips_unref(rotated) }
            var rgb: UnsafeMutablePointer<VipsImage>?
            guard visage_vips_to_srgb8(rotated, &rgb) == 0, let rgb else { throw Vips.lastError() }
            defer { visage_vips_unref(rgb) }
            var size = 0
            guard let memory = vips_image_write_to_memory(rgb, &size) else { throw Vips.lastError() }
            defer { g_free(memory) }
            let width = Int(vips_image_get_width(rgb))
            let height = Int(vips_image_get_height(rgb))
            guard size == width * height * 3 else { throw ImageError.corrupt("unexpected pixel layout") }
            let pixels = [UInt8](UnsafeRawBufferPointer(start: memory, count: size))
            return (opened.header, RGBImage(width: width, height: height, pixels: pixels))
        } }
    }

    private struct Opened {
        let pointer: UnsafeMutablePointer<VipsImage>
        let header: ImageHeader
    }

    private func open(_ bytes: UnsafeRawBufferPointer) throws -> Opened {
        guard bytes.count > 0, let base = bytes.baseAddress else { throw ImageError.empty }
        guard bytes.count <= maxInputBytes else { throw ImageError.tooLarge(bytes: bytes.count, limit: maxInputBytes) }
        guard let loader = visage_vips_loader(base, bytes.count).map({ String(cString: $0) }),
              let format = Self.format(ofLoader: loader, bytes: bytes)
        else {
            vips_error_clear()
            throw ImageError.unsupportedFormat
        }
        guard let image = visage_vips_open(base, bytes.count) else { throw Vips.lastError() }
        let width = Int(vips_image_get_width(image))
        let height = Int(vips_image_get_height(image))
        guard width > 0, height > 0, width.multipliedReportingOverflow(by: height).partialValue <= maxPixels,
              width <= maxPixels, height <= maxPixels
        else {
            visage_vips_unref(image)
            throw ImageError.tooManyPixels(width: width, height: height, limit: maxPixels)
        }
        var orientation: Int32 = 1
        if vips_image_get_typeof(image, "orientation") != 0 { vips_image_get_int(image, "orientation", &orientation) }
        let header = ImageHeader(
            format: format, storedWidth: width, storedHeight: height,
            orientation: (1...8).contains(orientation) ? Int(orientation) : 1, exif: Self.exif(of: image))
        return Opened(pointer: image, header: header)
    }

    /// Only the loaders of the formats Visage accepts; libvips' catch-all ImageMagick loader is
    /// allowed for BMP alone, since it would also read PDF, SVG and others.
    static func format(ofLoader loader: String, bytes: UnsafeRawBufferPointer) -> String? {
        switch loader {
        case "VipsForeignLoadJpegBuffer": return "jpeg"
        case "VipsForeignLoadPngBuffer", "VipsForeignLoadSpngBuffer": return "png"
        case "VipsForeignLoadWebpBuffer": return "webp"
        case "VipsForeignLoadNsgifBuffer", "VipsForeignLoadGifBuffer": return "gif"
        case "VipsForeignLoadTiffBuffer": return "tiff"
        case "VipsForeignLoadHeifBuffer": return "heif"
        case "VipsForeignLoadMagickBuffer", "VipsForeignLoadMagick7Buffer":
            return bytes.count > 2 && bytes[0] == 0x42 && bytes[1] == 0x4D ? "bmp" : nil
        default: return nil
        }
    }

    /// EXIF tags as libvips exposes them (`exif-ifd0-Make` and so on), named by their tag.
    static func exif(of image: UnsafeMutablePointer<VipsImage>) -> [String: String] {
        guard let fields = vips_image_get_fields(image) else { return [:] }
        defer { g_strfreev(fields) }
        var tags: [String: String] = [:]
        var index = 0
        while let field = fields[index] {
            index += 1
            let name = String(cString: field)
            guard name.hasPrefix("exif-ifd"), let dash = name.dropFirst(8).firstIndex(of: "-") else { continue }
            var text: UnsafeMutablePointer<CChar>?
            guard vips_image_get_as_string(image, field, &text) == 0, let text else { continue }
            defer { g_free(text) }
            // libvips appends " (value, type, n components, n bytes)"; keep the value.
            var value = String(cString: text)
            if let open = value.range(of: " (", options: .backwards) { value = String(value[..<open.lowerBound]) }
            tags[String(name[name.index(after: dash)...])] = value
        }
        return tags
    }
}

/// Encodes RGB images, for thumbnails and test fixtures.
public enum ImageEncoder {
    /// JPEG bytes; an `orientation` of 2–8 is written as the EXIF orientation tag.
    public static func jpeg(_ image: RGBImage, quality: Int = 90, orientation: Int = 1) throws -> [UInt8] {
        try encode(image) { visage_vips_jpeg($0, $1, $2, Int32(orientation), Int32(quality), $3, $4) }
    }

    public static func png(_ image: RGBImage) throws -> [UInt8] {
        try encode(image) { visage_vips_png($0, $1, $2, $3, $4) }
    }

    /// HEIF (HEVC) bytes, where libvips has its HEIF module.
    public static func heif(_ image: RGBImage, quality: Int = 80) throws -> [UInt8] {
        try encode(image) { visage_vips_heif($0, $1, $2, Int32(quality), $3, $4) }
    }

    /// Runs one libvips save-to-buffer call and copies the result out.
    private static func encode(
        _ image: RGBImage,
        _ save: (UnsafePointer<UInt8>?, Int32, Int32, UnsafeMutablePointer<UnsafeMutableRawPointer?>,
                 UnsafeMutablePointer<Int>) -> Int32
    ) throws -> [UInt8] {
        Vips.ensureStarted()
        return try Vips.exclusive {
            var buffer: UnsafeMutableRawPointer?
            var length = 0
            let status = image.pixels.withUnsafeBufferPointer {
                save($0.baseAddress, Int32(image.width), Int32(image.height), &buffer, &length)
            }
            guard status == 0, let buffer else { throw Vips.lastError() }
            defer { g_free(buffer) }
            return [UInt8](UnsafeRawBufferPointer(start: buffer, count: length))
        }
    }
}

/// libvips process state: started once, on first use.
enum Vips {
    private static let started: Bool = visage_vips_init() == 0

    static func ensureStarted() {
        precondition(started, "libvips failed to start")
    }

    /// libvips keeps one error buffer for the whole process, and warnings of an image that
    /// decodes fine land there too. One image operation at a time, starting and ending with an
    /// empty buffer, so each failure reports its own cause. Decoding is a small share of the work
    /// per image (inference dominates), and one decode at a time also bounds the pixels in memory.
    static func exclusive<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer {
            vips_error_clear()
            lock.unlock()
        }
        vips_error_clear()
        return try body()
    }

    private static let lock = NSLock()
    /// Where asynchronous callers wait their turn for `exclusive` without holding a thread.
    static let gate = AsyncBudget(capacity: 1)

    /// The pending libvips error as a `corrupt` image error, clearing it.
    static func lastError() -> ImageError {
        let message = String(cString: vips_error_buffer()).trimmingCharacters(in: .whitespacesAndNewlines)
        vips_error_clear()
        let firstLine = message.split(separator: "\n").first.map(String.init) ?? "unreadable image"
        return .corrupt(firstLine)
    }
}
