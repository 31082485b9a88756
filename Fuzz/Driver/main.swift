import CDabbaFuzzer
import DabbaFuzzTargets
import Foundation

// dabba-fuzz: runs one fuzz target under libFuzzer when built by `make fuzz` (instrumented, linked with libFuzzer);
// in an ordinary build it replays the inputs it is given (files or folders), to reproduce a saved crash without
// the fuzzing build.

let usage = """
    usage: dabba-fuzz <target> [libFuzzer options] [corpus folders or input files]
           dabba-fuzz --list
           dabba-fuzz --dictionary <target>   (the target's tokens as a libFuzzer dictionary)
    targets: \(FuzzTarget.all.map(\.name).joined(separator: ", "))
    """

let arguments = CommandLine.arguments
if arguments.count > 1, arguments[1] == "--list" {
    for target in FuzzTarget.all { print("\(target.name): \(target.summary)") }
    exit(0)
}
if arguments.count == 3, arguments[1] == "--dictionary", let target = FuzzTarget.named(arguments[2]) {
    print(target.dictionary, terminator: "")
    exit(0)
}
guard arguments.count > 1, let target = FuzzTarget.named(arguments[1]) else {
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(2)
}

/// The target libFuzzer's callback runs (a C function pointer cannot capture it). Set once, before fuzzing starts.
nonisolated(unsafe) var selected = target

/// Runs the target on one input; a failed property aborts, which libFuzzer reports as a crash and saves.
func runSelected(_ input: [UInt8]) {
    do {
        try selected.run(input)
    } catch {
        FileHandle.standardError.write(Data("dabba-fuzz \(selected.name): \(error)\n".utf8))
        abort()
    }
}

// libFuzzer reads the remaining arguments: the target's name goes, the program name stays first.
var fuzzerArguments = [arguments[0]] + arguments.dropFirst(2)
var cArguments: [UnsafeMutablePointer<CChar>?] = fuzzerArguments.map { strdup($0) } + [nil]
var argumentCount = Int32(fuzzerArguments.count)
let status = cArguments.withUnsafeMutableBufferPointer { buffer -> Int32 in
    var argv = buffer.baseAddress
    return dabba_run_fuzzer(&argumentCount, &argv) { data, size in
        runSelected(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
        return 0
    }
}
if status != -1 { exit(status) }

// Not linked with libFuzzer: replay the given inputs.
var inputs: [URL] = []
for path in fuzzerArguments.dropFirst() where !path.hasPrefix("-") {
    let url = URL(fileURLWithPath: path)
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        FileHandle.standardError.write(Data("dabba-fuzz: no such file or folder: \(path)\n".utf8))
        exit(2)
    }
    if isDirectory.boolValue {
        let files =
            (FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil)?.allObjects as? [URL]) ?? []
        inputs += files.filter { file in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: file.path, isDirectory: &isFolder) && !isFolder.boolValue
        }.sorted { $0.path < $1.path }
    } else {
        inputs.append(url)
    }
}
guard !inputs.isEmpty else {
    FileHandle.standardError.write(
        Data("dabba-fuzz: this build has no libFuzzer (build it with `make fuzz`); give inputs to replay\n".utf8)
    )
    exit(2)
}
for input in inputs {
    guard let bytes = FileManager.default.contents(atPath: input.path) else {
        FileHandle.standardError.write(Data("dabba-fuzz: cannot read \(input.path)\n".utf8))
        exit(2)
    }
    print("\(target.name): \(input.path)")
    runSelected(Array(bytes))
}
print("\(target.name): \(inputs.count) input(s) ran without failure")
