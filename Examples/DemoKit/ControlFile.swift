import Foundation

/// A small JSON file through which a demo or a test changes a fake dependency's behaviour while services run (a
/// bank that fails, a gateway that is down): written atomically, read on every call.
public enum ControlFile {
    /// Writes a value (a reader sees the old file or the new one, never half of it).
    /// - Parameters:
    ///   - value: The conditions.
    ///   - path: The file.
    /// - Throws: Encoding or file errors.
    public static func write(_ value: some Encodable, to path: String) throws {
        try JSONEncoder().encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Reads a value, or `fallback` when there is no file (or no path).
    /// - Parameters:
    ///   - type: The conditions' type.
    ///   - path: The file, or nil.
    ///   - fallback: The value without a file.
    /// - Returns: The value.
    /// - Throws: ``ControlFileError`` when the file exists but does not decode.
    public static func read<Value: Decodable>(_ type: Value.Type, from path: String?, or fallback: Value) throws -> Value {
        guard let path, let data = FileManager.default.contents(atPath: path) else { return fallback }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw ControlFileError(path: path, message: "\(error)")
        }
    }
}

/// A control file that does not decode.
public struct ControlFileError: Error, CustomStringConvertible, Sendable {
    /// The file.
    public var path: String
    /// What is wrong.
    public var message: String
    public var description: String { "the control file \(path) is not valid: \(message)" }
}
