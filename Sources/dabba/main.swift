import DabbaCLI
import DabbaKafka
import Foundation

AllocatorTuning.apply()

exit(await DabbaCommand.execute(Array(CommandLine.arguments.dropFirst())))
