import Foundation
import VisageCore
import VisageMedia

/// What the session's creator asked for that only this dialect reads back (stored opaque).
struct FaceSessionOptions: Codable, Sendable {
    var contract: FaceContract
    var operationMode: String
    var deviceCorrelationIdSetInClient: Bool
    var enableSessionImage: Bool
    var returnVerifyImageHash: Bool
    var modelVersion: String?
}

/// A create-session request of either contract, validated: JSON, the preview's multipart
/// (`Parameters` + `VerifyImage`) or the GA's flat multipart form.
struct FaceCreateRequest {
    let options: FaceSessionOptions
    let core: LivenessSessionRequest

    static let operationModes: Set = ["Passive", "PassiveActive"]
    static let previewModels: Set = ["2022-10-15-preview.04", "2023-12-20-preview.06"]
    static let gaModels: Set = ["2024-11-15"]

    static func parse(kind: LivenessKind, contract: FaceContract, contentType: String, body: [UInt8]) throws -> FaceCreateRequest {
        var fields: [String: JSONValue]
        var verifyImage: [UInt8]?
        if let boundary = MultipartForm.boundary(ofContentType: contentType) {
            let form: MultipartForm
            do {
                form = try MultipartForm(body: body, boundary: boundary)
            } catch {
                throw FaceError.badArgument("The multipart body is malformed: \(error).")
            }
            switch contract {
            case .preview:
                guard let parameters = form.part("Parameters") else { throw FaceError.badArgument("The form needs a Parameters part.") }
                fields = try json(parameters.body)
                verifyImage = form.part("VerifyImage")?.body
            case .ga:
                fields = [:]
                for part in form.parts where part.name != "verifyImage" {
                    fields[part.name] = .string(String(decoding: part.body, as: UTF8.self))
                }
                verifyImage = form.part("verifyImage")?.body
            }
        } else {
            guard contentType.lowercased().hasPrefix("application/json") || contentType.isEmpty else {
                throw FaceError.unsupportedMediaType(contentType)
            }
            fields = try json(body)
        }
        if kind == .liveness, verifyImage != nil { throw FaceError.badArgument("A liveness session takes no verify image.") }
        if kind == .livenessWithVerify, contract == .ga, verifyImage == nil {
            throw FaceError.badArgument("verifyImage is required.")
        }
        if verifyImage?.isEmpty == true { throw FaceError.invalidImage("The verify image is empty.") }
        let flat = contract == .ga && MultipartForm.boundary(ofContentType: contentType) != nil
        guard case let .string(mode)? = fields["livenessOperationMode"] else {
            throw FaceError.badArgument("livenessOperationMode is required.")
        }
        guard operationModes.contains(mode) else {
            throw FaceError.badArgument("livenessOperationMode must be Passive or PassiveActive, not '\(mode)'.")
        }
        let setInClient = try bool(fields, "deviceCorrelationIdSetInClient", flat: flat) ?? false
        var device: String?
        if let value = fields["deviceCorrelationId"], value != .null {
            guard case let .string(text) = value else { throw FaceError.badArgument("deviceCorrelationId must be a string.") }
            device = text
        }
        if setInClient, device != nil {
            throw FaceError.badArgument("deviceCorrelationId must be null when deviceCorrelationIdSetInClient is true.")
        }
        if !setInClient, device == nil {
            throw FaceError.badArgument("deviceCorrelationId is required unless deviceCorrelationIdSetInClient is true.")
        }
        if let device, UUID(uuidString: device) == nil {
            throw FaceError.badArgument("deviceCorrelationId must be a GUID.")
        }
        let ttl = try int(fields, "authTokenTimeToLiveInSeconds", flat: flat) ?? 600
        guard (60...86400).contains(ttl) else {
            throw FaceError.badArgument("authTokenTimeToLiveInSeconds must be between 60 and 86400, not \(ttl).")
        }
        let threshold = try number(fields, "verifyConfidenceThreshold", flat: flat)
        if let threshold, !(0...1).contains(threshold) {
            throw FaceError.badArgument("verifyConfidenceThreshold must be between 0 and 1.")
        }
        if kind == .liveness, threshold != nil { throw FaceError.badArgument("verifyConfidenceThreshold applies to verify sessions only.") }
        let modelKey = contract == .ga ? "livenessModelVersion" : "livenessSingleModalModel"
        var model: String?
        if case let .string(text)? = fields[modelKey] { model = text }
        if let model, !(contract == .ga ? gaModels : previewModels).contains(model) {
            throw FaceError.badArgument("\(modelKey) '\(model)' is not a supported model version.")
        }
        let options = FaceSessionOptions(
            contract: contract, operationMode: mode, deviceCorrelationIdSetInClient: setInClient,
            enableSessionImage: try bool(fields, "enableSessionImage", flat: flat) ?? false,
            returnVerifyImageHash: try bool(fields, "returnVerifyImageHash", flat: flat) ?? false, modelVersion: model)
        let optionsText = String(decoding: try JSONEncoder().encode(options), as: UTF8.self)
        // GA clients read the result from GET only; the preview's default is false as well.
        let send = try bool(fields, "sendResultsToClient", flat: flat) ?? false
        return FaceCreateRequest(
            options: options,
            core: LivenessSessionRequest(kind: kind, options: optionsText, deviceID: device, tokenSeconds: ttl, sendResults: send,
                                         verifyThreshold: threshold, verifyImage: verifyImage))
    }

    static func json(_ body: [UInt8]) throws -> [String: JSONValue] {
        guard case let .object(object)? = JSONValue(parsing: String(decoding: body, as: UTF8.self)) else {
            throw FaceError.badArgument("The request body must be a JSON object.")
        }
        return object
    }

    /// A boolean field; form fields arrive as text.
    static func bool(_ fields: [String: JSONValue], _ name: String, flat: Bool) throws -> Bool? {
        switch fields[name] {
        case nil, .null?: return nil
        case let .bool(value)?: return value
        case let .string(text)? where flat && ["true", "false"].contains(text.lowercased()): return text.lowercased() == "true"
        default: throw FaceError.badArgument("\(name) must be a boolean.")
        }
    }

    static func int(_ fields: [String: JSONValue], _ name: String, flat: Bool) throws -> Int? {
        guard let value = try number(fields, name, flat: flat) else { return nil }
        guard value == value.rounded(), abs(value) < 1e9 else { throw FaceError.badArgument("\(name) must be an integer.") }
        return Int(value)
    }

    static func number(_ fields: [String: JSONValue], _ name: String, flat: Bool) throws -> Double? {
        switch fields[name] {
        case nil, .null?: return nil
        case let .number(value)? where value.isFinite: return value
        case let .string(text)? where flat: 
            guard let value = Double(text), value.isFinite else { throw FaceError.badArgument("\(name) must be a number.") }
            return value
        default: throw FaceError.badArgument("\(name) must be a number.")
        }
    }
}
