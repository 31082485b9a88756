import DabbaFuzzTargets
import Foundation
import Testing

/// The short, deterministic pass of every fuzz target that runs with the other tests (`make fuzz` runs the same
/// targets under libFuzzer): seeded structured-but-mutated inputs, then the saved corpus, which holds every input
/// that once crashed or broke a property.
@Suite("Fuzz targets: a seeded pass and the saved corpus")
struct FuzzPassTests {
    /// `Tests/Fixtures/fuzz`: one folder of inputs per target.
    static let corpusRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fuzz")

    /// Inputs per target in the seeded pass: a few seconds for all targets in a debug build.
    static let seededInputs = 1000

    static let targetNames = FuzzTarget.all.map(\.name)

    @Test("seeded random inputs: no trap, every property holds", arguments: targetNames)
    func seededPass(_ name: String) throws {
        let target = try #require(FuzzTarget.named(name))
        // A fixed seed per target (FNV-1a of its name): the same inputs on every run and machine.
        var random = FuzzRandom(seed: name.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 })
        for index in 0..<Self.seededInputs {
            let input = target.generate(&random)
            do {
                try target.run(input)
            } catch {
                Issue.record("\(name) seeded input #\(index), base64 \(Data(input).base64EncodedString()): \(error)")
            }
        }
    }

    @Test("the saved corpus replays: no trap, every property holds", arguments: targetNames)
    func corpus(_ name: String) throws {
        let target = try #require(FuzzTarget.named(name))
        let files = try Self.corpusFiles(of: name)
        #expect(!files.isEmpty, "no corpus in \(Self.corpusRoot.appendingPathComponent(name).path)")
        for file in files {
            let input = try [UInt8](Data(contentsOf: file))
            do {
                try target.run(input)
            } catch {
                Issue.record("\(name) corpus file \(file.lastPathComponent): \(error)")
            }
        }
    }

    /// Every file under `Tests/Fixtures/fuzz/<name>/`, sub-folders included, in a stable order.
    static func corpusFiles(of name: String) throws -> [URL] {
        let folder = corpusRoot.appendingPathComponent(name)
        let paths = try FileManager.default.subpathsOfDirectory(atPath: folder.path).sorted()
        return paths.map { folder.appendingPathComponent($0) }.filter { file in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: file.path, isDirectory: &isFolder) && !isFolder.boolValue
        }
    }
}
