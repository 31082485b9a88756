import ArgumentParser

/// The options of `dabba produce EVENT_TYPE`: the payload, how many events, how fast, which catalog.
struct TypedProduceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The event's JSON payload.", valueName: "json"))
    var data: String?

    @Option(help: ArgumentHelp("Read the JSON payload from this file ('-': standard input).", valueName: "path"))
    var file: String?

    @Option(
        name: .customLong("example"),
        defaultAsFlag: "",
        parsing: .next,
        help: ArgumentHelp(
            "Send an example the catalog declares for the event: the one named NAME, or the first.",
            valueName: "name"
        )
    )
    var example: String? = nil

    @Option(help: "Send this many events (with {{seq}}, {{uuid}}, … placeholders), printing one summary line.")
    var count: Int?

    @Option(help: ArgumentHelp("Send at most this many events per second (with --count).", valueName: "per-second"))
    var rate: Double?

    @Option(
        help: ArgumentHelp(
            "The catalog directory. Default: $\(CatalogDirectory.environmentVariable), else "
                + "./\(CatalogDirectory.defaultPath).",
            valueName: "dir"
        )
    )
    var catalog: String?

    @Option(help: ArgumentHelp("The CloudEvents source (ce_source). Default: /dabba-cli.", valueName: "uri"))
    var source: String?

    /// The options given, by name, for "needs EVENT_TYPE" messages.
    var given: [String] {
        var names: [String] = []
        if data != nil { names.append("--data") }
        if file != nil { names.append("--file") }
        if example != nil { names.append("--example") }
        if count != nil { names.append("--count") }
        if rate != nil { names.append("--rate") }
        if catalog != nil { names.append("--catalog") }
        if source != nil { names.append("--source") }
        return names
    }

    /// Checks the options of typed mode (an EVENT_TYPE was given).
    func validateTyped() throws {
        let sources = [data.map { _ in "--data" }, file.map { _ in "--file" }, example.map { _ in "--example" }]
            .compactMap { $0 }
        guard !sources.isEmpty else {
            throw ValidationError(
                "give the event's payload with --data JSON, --file PATH or --example [NAME]"
            )
        }
        guard sources.count == 1 else {
            throw ValidationError("\(sources.joined(separator: " and ")) cannot be combined: give one payload")
        }
        if let count, count < 1 { throw ValidationError("--count must be 1 or more, not \(count)") }
        if let rate {
            guard rate.isFinite, rate > 0 else {
                throw ValidationError("--rate must be a positive number of events per second")
            }
            guard count != nil else {
                throw ValidationError("--rate paces --count events; add --count N")
            }
        }
        if let catalog, catalog.isEmpty { throw ValidationError("--catalog needs a directory") }
        if let source, source.isEmpty { throw ValidationError("--source must not be empty") }
    }

    /// The payload source (after ``validateTyped()``).
    var payloadSource: PayloadSource {
        if let data { return .data(data) }
        if let file { return .file(file) }
        return .example(example.flatMap { $0.isEmpty ? nil : $0 })
    }
}
