import KeycardCommands

@main
struct Keycard {
    static func main() { KeycardCommand.start() }
}
