import ArgumentParser

struct ContractVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify")
}
