import Foundation

/// The file `dabba broker --bootstrap-file` writes: the bootstrap servers and a newline, present exactly while the
/// broker is ready. It is written to a temporary file and renamed into place, so a script polling for it never
/// reads it half-written.
struct BootstrapFile {
    let path: String

    /// Removes a file left behind by an earlier run, so pollers do not mistake it for this broker's.
    func removeStale() throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw CLIError("could not remove the old bootstrap file \(path): \(error.localizedDescription)")
        }
    }

    /// Writes `servers` atomically (temporary file in the same directory, then rename).
    func write(_ servers: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try Data((servers + "\n").utf8).write(to: temporary)
            guard rename(temporary.path, url.path) == 0 else {
                let reason = String(cString: strerror(errno))
                try? FileManager.default.removeItem(at: temporary)
                throw CLIError("could not move the bootstrap file into place at \(path): \(reason)")
            }
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("could not write the bootstrap file \(path): \(error.localizedDescription)")
        }
    }

    /// Removes the file on shutdown if it still holds what this broker wrote.
    func remove(ifContains servers: String) {
        guard let data = FileManager.default.contents(atPath: path),
            String(decoding: data, as: UTF8.self) == servers + "\n"
        else { return }
        try? FileManager.default.removeItem(atPath: path)
    }
}
