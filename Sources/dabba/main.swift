import DabbaCLI
import Foundation

exit(await DabbaCommand.execute(Array(CommandLine.arguments.dropFirst())))
