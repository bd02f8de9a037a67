# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_espmqtt_global_optspecs
    string join \n format= q/quiet v/verbose no-color config= non-interactive h/help V/version
end

function __fish_espmqtt_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_espmqtt_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_espmqtt_using_subcommand
    set -l cmd (__fish_espmqtt_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c espmqtt -n "__fish_espmqtt_needs_command" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_needs_command" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_needs_command" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "fingerprint" -d 'Show a broker\'s certificate chain, fingerprints and pins; check them in CI'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "probe" -d 'Check end to end, from the host, whether a device can connect to a broker'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "device" -d 'Per-device identities and secrets (registry)'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "ca" -d 'Local certificate authority for device client certificates'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "broker" -d 'Broker-side files for the whole fleet (mosquitto password file, ACL, config)'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "init" -d 'Create espmqtt.toml (broker, Wi-Fi, topic prefix, trust mode, board)'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "build" -d 'Render the firmware template and compile it with arduino-cli or PlatformIO'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "flash" -d 'Write firmware and/or a device\'s configuration to a module over serial'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "monitor" -d 'Serial console that explains boot messages, crashes and firmware status lines'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "ports" -d 'List serial ports with their USB bridge chip'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "emulate" -d 'Run a virtual ESP8266 serial bootloader on a TCP port'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "demo" -d 'Run the whole job on this machine: local broker, emulator, provision, flash, probe'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from list config help" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from list config help" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from list config help" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from list config help" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from list config help" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from list config help" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from list config help" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from list config help" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from list config help" -f -a "list" -d 'List devices'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from list config help" -f -a "config" -d 'Write a device\'s config blob (Wi-Fi, broker, credentials, trust material)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from list config help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from list" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from list" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from list" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from list" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from config" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from config" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from config" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from config" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from config" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from config" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from config" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from config" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "list" -d 'List devices'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "config" -d 'Write a device\'s config blob (Wi-Fi, broker, credentials, trust material)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init help" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init help" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init help" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init help" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init help" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init help" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init help" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init help" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init help" -f -a "init" -d 'Create the local CA in .espmqtt/ca/'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from init" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from init" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from init" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from init" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from init" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from init" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from init" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "init" -d 'Create the local CA in .espmqtt/ca/'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export help" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export help" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export help" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export help" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export help" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export help" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export help" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export help" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export help" -f -a "export" -d 'Write broker-side files for the fleet'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from help" -f -a "export" -d 'Write broker-side files for the fleet'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand monitor" -l port -d 'Serial device, or socket://HOST:PORT (the emulator). Default: the only USB serial port' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand monitor" -l baud -d 'Baud rate of the firmware\'s console (Serial.begin in the sketch)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand monitor" -l until -d 'Exit 0 as soon as a console line matches this regular expression' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand monitor" -l timeout -d 'Exit 1 when this many seconds pass (without --until: stop after that long)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand monitor" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand monitor" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand monitor" -l raw -d 'Print the console only, without explanations (text output)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand monitor" -l reset -d 'Reset the module into its firmware first (RTS/DTR auto-reset wiring)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand monitor" -l no-auto-baud -d 'Never change the baud rate on unreadable bytes'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand monitor" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand monitor" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand monitor" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand monitor" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand monitor" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand monitor" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ports" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ports" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ports" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ports" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ports" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ports" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ports" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ports" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -l listen -d 'Address to listen on (port 0 = any free port; the bound address is printed)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -l flash-size -d 'Flash size (512KB, 1MB, 2MB, 4MB, …; default from --flash-id, else 1MB)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -l flash-id -d 'JEDEC flash id as RDID returns it (hex, e.g. 1440EF = Winbond 1 MB)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -l mac -d 'MAC address of the (first) module' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -l image -d 'Initial flash contents (written at offset 0, rest erased)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -l save -d 'Save the flash contents here after FLASH_END, MD5, idle, disconnect and on SIGTERM/SIGINT' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -l baud-model -d 'Model wire time at the current baud and flash erase/write time' -r -f -a "on\t''
off\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -l fault -d 'Inject a fault (repeatable); grammar below' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -l chip -d 'Chip the ROM reports (esp32 only to test that flashers refuse it)' -r -f -a "esp8266\t''
esp32\t'For the "refuse anything but an ESP8266" tests: magic 0x00F01D83 and 4 ROM status bytes; otherwise it behaves like the ESP8266 model'"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -l modules -d 'Modules on the bench: after a connection that wrote flash ends, the next one meets a fresh blank module with MAC+1 (saved as FILE-2.bin, …)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -l boot-mode -d 'download = ROM loader (GPIO0 low); flash = boot the firmware in flash' -r -f -a "download\t'GPIO0 low: the ROM serial loader (`boot mode:(1,x)`)'
flash\t'GPIO0 high: boot the firmware in flash; the loader never answers'"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -l console -d 'Console transcript the firmware "prints" after booting from flash: the ROM banner (74880 baud) first, then FILE line by line (for `espmqtt monitor --port socket://…`)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -l no-sync -d 'Never answer SYNC (a module that is not in download mode)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand demo" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand demo" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand demo" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand demo" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand demo" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand demo" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand demo" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand demo" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand completions" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand completions" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand completions" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand completions" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand completions" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand completions" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand completions" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand completions" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker init build flash monitor ports emulate demo completions help" -f -a "fingerprint" -d 'Show a broker\'s certificate chain, fingerprints and pins; check them in CI'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker init build flash monitor ports emulate demo completions help" -f -a "probe" -d 'Check end to end, from the host, whether a device can connect to a broker'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker init build flash monitor ports emulate demo completions help" -f -a "device" -d 'Per-device identities and secrets (registry)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker init build flash monitor ports emulate demo completions help" -f -a "ca" -d 'Local certificate authority for device client certificates'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker init build flash monitor ports emulate demo completions help" -f -a "broker" -d 'Broker-side files for the whole fleet (mosquitto password file, ACL, config)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker init build flash monitor ports emulate demo completions help" -f -a "init" -d 'Create espmqtt.toml (broker, Wi-Fi, topic prefix, trust mode, board)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker init build flash monitor ports emulate demo completions help" -f -a "build" -d 'Render the firmware template and compile it with arduino-cli or PlatformIO'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker init build flash monitor ports emulate demo completions help" -f -a "flash" -d 'Write firmware and/or a device\'s configuration to a module over serial'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker init build flash monitor ports emulate demo completions help" -f -a "monitor" -d 'Serial console that explains boot messages, crashes and firmware status lines'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker init build flash monitor ports emulate demo completions help" -f -a "ports" -d 'List serial ports with their USB bridge chip'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker init build flash monitor ports emulate demo completions help" -f -a "emulate" -d 'Run a virtual ESP8266 serial bootloader on a TCP port'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker init build flash monitor ports emulate demo completions help" -f -a "demo" -d 'Run the whole job on this machine: local broker, emulator, provision, flash, probe'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker init build flash monitor ports emulate demo completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker init build flash monitor ports emulate demo completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "list" -d 'List devices'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "config" -d 'Write a device\'s config blob (Wi-Fi, broker, credentials, trust material)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from ca" -f -a "init" -d 'Create the local CA in .espmqtt/ca/'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from broker" -f -a "export" -d 'Write broker-side files for the fleet'
