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
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "trust" -d 'The broker trust the fleet gets over MQTT: stage the next certificate, retire the old'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "init" -d 'Create espmqtt.toml (broker, Wi-Fi, topic prefix, trust mode, board)'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "build" -d 'Render the firmware template and compile it with arduino-cli or PlatformIO'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "flash" -d 'Write firmware and/or a device\'s configuration to a module over serial'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "monitor" -d 'Serial console that explains boot messages, crashes and firmware status lines'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "ports" -d 'List serial ports with their USB bridge chip'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "emulate" -d 'Run a virtual ESP8266 serial bootloader on a TCP port'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "demo" -d 'Run the whole job on this machine: local broker, emulator, provision, flash, probe'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c espmqtt -n "__fish_espmqtt_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -l servername -d 'Send this SNI name while connecting to HOST (connect to an IP, present a name)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -l timeout -d 'Give up after this many seconds (DNS, connect and handshake together)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -l file -d 'Read certificates from a PEM (one or many) or DER file instead of the network' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -l expect -d 'Exit 1 unless the leaf has this SHA-1, SHA-256 or pin-sha256 (any usual spelling). Repeat to accept any of several (current and next)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -l min-days -d 'Exit 1 when the leaf expires within N days' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -l warn-days -d 'Warn when the leaf expires within N days' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -l emit -d 'Print paste-ready configuration instead of the summary: C++ for the ESP8266 Arduino core (all three trust modes) or Tasmota commands' -r -f -a "arduino\t'C++ for the ESP8266 Arduino core: setFingerprint, setKnownKey, setTrustAnchors'
tasmota\t'Tasmota\'s public-key fingerprint (MqttFingerprint1/2 commands)'"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -l ca-file -d 'With --emit arduino: PEM bundle the chain\'s root is looked up in before the system store (a private CA, or the root the server does not send), so the `ca` block pins the root and not an intermediate' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -l no-sni -d 'Send no SNI: what a device that connects by IP address is shown'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -l tls12 -d 'Ask the way an ESP8266 does, with its own TLS engine (BearSSL, TLS 1.0-1.2, no TLS 1.3): shows the certificate a device is given'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand fingerprint" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l device -d 'Take the settings of a registered device (needs the device registry)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -s u -l username -d 'MQTT user name' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l password -d 'MQTT password (visible in the process list: prefer --password-env)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l password-env -d 'Name of an environment variable holding the MQTT password' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l client-id -d 'MQTT client id (default: the device\'s, for --device or a registered user name; else the user name; else espmqtt-probe-<random>)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l trust -d 'How the device authenticates the broker [default: espmqtt.toml\'s, else ca]' -r -f -a "ca\t'`setTrustAnchors` + NTP: chain, dates and name; survives renewals'
pubkey\t'`setKnownKey`: SPKI equality; survives renewals that keep the key'
fingerprint\t'`setFingerprint`: SHA-1 of the leaf DER; breaks at every renewal'
insecure\t'`setInsecure`: no check at all'"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l ca-file -d 'Trust anchor(s) for `ca` mode, PEM (default: the system roots)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l fingerprint -d 'Leaf SHA-1 for `fingerprint` mode; give it twice for current and next' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l pubkey-file -d 'Public key (SPKI PEM, or a certificate) for `pubkey` mode' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l cert -d 'Client certificate (PEM chain) for mutual TLS' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l key -d 'Private key of the client certificate (PEM)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l servername -d 'The name the device passes to connect(), sent as SNI and checked against the certificate (default: HOST, also when it is an IP address, as the firmware does)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l topic-prefix -d 'Topic prefix: topics are <prefix>/<client-id>/…. [default: espmqtt.toml\'s, else espmqtt]' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l mfln -d 'Device buffers setBufferSizes(N, N), i.e. the max_fragment_length it requests: 512|1024|2048|4096|off (16 KB, no request). [default: espmqtt.toml\'s, else 512]' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l tls-versions -d 'TLS versions the device enables (setSSLVersion): 1.0-1.2, 1.1-1.2, 1.2…' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l ciphers -d 'The core\'s cipher build option. [default: espmqtt.toml\'s, else all]' -r -f -a "all\t'All 45 suites (the default menu entry)'
basic\t'`-DBEARSSL_SSL_BASIC`: four RSA key-exchange CBC suites, no EC at all'"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l timeout -d 'Give up after this many seconds (whole probe, DNS included)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l staged-trust -d 'Check the device\'s (or, with --all, every device\'s) committed and staged trust against the broker and the staged next certificate (docs/OTA.md)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l all -d 'With --staged-trust: every active device'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand probe" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -f -a "new" -d 'Create devices: a name, a secret from the OS random generator, optionally a certificate'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -f -a "list" -d 'List devices (no secrets)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -f -a "show" -d 'Show one device: identity, flash record, certificate, history'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -f -a "rotate" -d 'Give a device a new secret (the old one stops working at the next `broker export`)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -f -a "revoke" -d 'Revoke a device: its secret and certificate are retired; exports leave it out'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -f -a "export" -d 'Export the registry for other systems: CSV (default), JSON (--format json), or a whole-registry dump (--dump)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -f -a "import" -d 'Load a dump (`device export --dump`) into an empty registry of either backend'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -f -a "cert" -d 'Issue a client certificate to a device from the local CA'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -f -a "check" -d 'Check the registry: SQLite integrity and that every active device is whole'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -f -a "config" -d 'Write a device\'s config blob (Wi-Fi, broker, credentials, trust material)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -f -a "push" -d 'Push each device\'s current config over MQTT as an authenticated update; wait for acks'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -f -a "updates" -d 'Fleet update status: committed, staged and pending update, last ack, last seen'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and not __fish_seen_subcommand_from new list show rotate revoke export import cert check config push updates help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from new" -l prefix -d 'Name prefix of a numbered series' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from new" -l count -d 'Create a numbered series of this many devices: PREFIX + number, zero-padded to 3 digits (or --width)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from new" -l start -d 'First number of the series (to continue one)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from new" -l width -d 'Zero-pad numbers to this many digits (default 3; a longer number is never cut)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from new" -l rsa -d 'Certificate key: RSA with this many bits instead of EC P-256' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from new" -l days -d 'Certificate validity in days' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from new" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from new" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from new" -l skip-existing -d 'Skip names that already exist and exit 0 (they are reported as skipped)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from new" -l client-cert -d 'Also issue a client certificate to each device (CN = client id)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from new" -l show-secrets -d 'Print the generated secrets'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from new" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from new" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from new" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from new" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from new" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from new" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from list" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from list" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from list" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from list" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from show" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from show" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from show" -l show-secrets -d 'Include the secret and the certificate\'s private key'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from show" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from show" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from rotate" -l timeout -d 'With --over-the-air: how long to wait for the device to stage the new password (e.g. 90s, 5m)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from rotate" -l broker -d 'Broker to publish to (default: [operator] broker, else [broker] host:port)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from rotate" -l user -d 'Operator\'s MQTT username (default: [operator] username)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from rotate" -l password-env -d 'Variable holding the operator\'s password (default: [operator] password_env, else ESPMQTT_OPERATOR_PASSWORD)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from rotate" -l ca-file -d 'CA file for the broker\'s certificate (default: [operator] ca_file, else [tls] ca_file)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from rotate" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from rotate" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from rotate" -l show-secrets -d 'Print the new secret'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from rotate" -l over-the-air -d 'Deliver the new password as a config update over MQTT; the device keeps the old one until the broker accepted the new one'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from rotate" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from rotate" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from rotate" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from rotate" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from rotate" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from rotate" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from revoke" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from revoke" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from revoke" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from revoke" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from revoke" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from revoke" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from revoke" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from export" -l out -d 'Write to this file (mode 0600, atomically) instead of stdout' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from export" -l dump -d 'Write the whole registry (every secret, key, credential date and event) as one JSON dump to FILE (mode 0600), for `device import`' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from export" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from export" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from export" -l show-secrets -d 'Include each device\'s current secret'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from export" -l force -d 'Replace the --out or --dump file even when it is not an earlier export'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from export" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from export" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from export" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from import" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from import" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from import" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from import" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from import" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from cert" -l rsa -d 'RSA key with this many bits instead of EC P-256' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from cert" -l days -d 'Validity in days' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from cert" -l out -d 'Also write NAME.crt, NAME.key (mode 0600) and ca.crt into this directory' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from cert" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from cert" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from cert" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from cert" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from cert" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from cert" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from cert" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from cert" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from check" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from check" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from check" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from check" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from check" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from config" -s o -l out -d 'File to write the blob to' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from config" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from config" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from config" -l force -d 'Replace FILE even when it is not a config blob'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from config" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from config" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from config" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from config" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from config" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from config" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from push" -l wait -d 'What to wait for before exiting' -r -f -a "none\t''
staged\t''
committed\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from push" -l timeout -d 'How long to wait for the devices\' acknowledgements (e.g. 90s, 5m)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from push" -l broker -d 'Broker to publish to (default: [operator] broker, else [broker] host:port)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from push" -l user -d 'Operator\'s MQTT username (default: [operator] username)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from push" -l password-env -d 'Variable holding the operator\'s password (default: [operator] password_env, else ESPMQTT_OPERATOR_PASSWORD)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from push" -l ca-file -d 'CA file for the broker\'s certificate (default: [operator] ca_file, else [tls] ca_file)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from push" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from push" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from push" -l all -d 'Every active device in the registry'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from push" -l rotate-key -d 'Also give the devices a new update key'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from push" -l dry-run -d 'Show what would be published; change nothing (needs no broker and no password)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from push" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from push" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from push" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from push" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from push" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from push" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from updates" -l refresh -d 'Listen to the broker this long first (e.g. 3s)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from updates" -l broker -d 'Broker to publish to (default: [operator] broker, else [broker] host:port)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from updates" -l user -d 'Operator\'s MQTT username (default: [operator] username)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from updates" -l password-env -d 'Variable holding the operator\'s password (default: [operator] password_env, else ESPMQTT_OPERATOR_PASSWORD)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from updates" -l ca-file -d 'CA file for the broker\'s certificate (default: [operator] ca_file, else [tls] ca_file)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from updates" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from updates" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from updates" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from updates" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from updates" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from updates" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from updates" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from updates" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "new" -d 'Create devices: a name, a secret from the OS random generator, optionally a certificate'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "list" -d 'List devices (no secrets)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one device: identity, flash record, certificate, history'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "rotate" -d 'Give a device a new secret (the old one stops working at the next `broker export`)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'Revoke a device: its secret and certificate are retired; exports leave it out'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "export" -d 'Export the registry for other systems: CSV (default), JSON (--format json), or a whole-registry dump (--dump)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "import" -d 'Load a dump (`device export --dump`) into an empty registry of either backend'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "cert" -d 'Issue a client certificate to a device from the local CA'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "check" -d 'Check the registry: SQLite integrity and that every active device is whole'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "config" -d 'Write a device\'s config blob (Wi-Fi, broker, credentials, trust material)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "push" -d 'Push each device\'s current config over MQTT as an authenticated update; wait for acks'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "updates" -d 'Fleet update status: committed, staged and pending update, last ack, last seen'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init show help" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init show help" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init show help" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init show help" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init show help" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init show help" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init show help" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init show help" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init show help" -f -a "init" -d 'Create the local CA in .espmqtt/ca/ (EC P-256 unless --rsa)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init show help" -f -a "show" -d 'Show the local CA'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and not __fish_seen_subcommand_from init show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from init" -l rsa -d 'RSA key with this many bits (2048, 3072, 4096) instead of EC P-256' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from init" -l days -d 'Validity in days (longer than any device certificate it will sign)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from init" -l cn -d 'Common name of the CA certificate' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from init" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from init" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from init" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from init" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from init" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from init" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from init" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from show" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from show" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from show" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from show" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "init" -d 'Create the local CA in .espmqtt/ca/ (EC P-256 unless --rsa)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show the local CA'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export sync help" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export sync help" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export sync help" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export sync help" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export sync help" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export sync help" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export sync help" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export sync help" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export sync help" -f -a "export" -d 'Write mosquitto\'s passwd, ACL and a TLS listener snippet for the fleet'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export sync help" -f -a "sync" -d 'Bring a running mosquitto\'s dynamic security plugin to the registry\'s state'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and not __fish_seen_subcommand_from export sync help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l mosquitto -d 'Directory for mosquitto\'s files (created if missing)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l dynsec -d 'Write (or update) a dynamic-security.json for mosquitto\'s dynamic security plugin: one client and one role per active device; entries espmqtt does not manage (the admin) are kept' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l amqtt -d 'Directory for amqtt\'s files: passwd (Argon2id, 0600) and amqtt.yaml (TLS listener from --port/--bind/--server-cert/--server-key, per-device ACLs)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l mosquitto-version -d 'Follow this mosquitto version\'s password hashing defaults (PBKDF2 iterations)' -r -f -a "2.0\t'mosquitto 2.0.x: 101 PBKDF2 iterations'
2.1\t'mosquitto 2.1.x: 1000 PBKDF2 iterations'"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l admin -d 'A user allowed to read and write every topic (`#`); its password line is kept across exports' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l topic-prefix -d 'Topic prefix (default: [mqtt] topic_prefix of espmqtt.toml, else "espmqtt")' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l port -d 'Listener port (default: the [broker] port of espmqtt.toml, the one the devices connect to, else 8883)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l bind -d 'Listener address (default: all interfaces)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l server-cert -d 'Broker certificate (chain) PEM' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l server-key -d 'Broker private key PEM' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l ca-file -d 'CA file for the listener (`cafile`)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l client-certs -d 'Require client certificates' -r -f -a "auto\t'Require them when every exported device has one'
require\t'Always require them (identity = certificate CN)'
off\t'Never require them (passwords only)'"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l owner -d 'Give the secret files (passwd, dynamic-security.json) to this user (USER or USER:GROUP), e.g. `mosquitto`, which Debian\'s broker runs as; needs root. Mode stays 0600' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l force -d 'Replace a mosquitto.conf, acl or passwd in the --mosquitto directory that an earlier export did not write'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l lock-out-devices-without-cert -d 'With --client-certs require: export even though some active devices have no certificate (the broker will refuse them)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from sync" -l dynsec -d 'The broker and its dynamic security admin: mqtts://ADMIN@HOST[:PORT]' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from sync" -l password-env -d 'Variable holding the admin\'s password' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from sync" -l ca-file -d 'CA of the broker\'s certificate (PEM); default: the public roots' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from sync" -l topic-prefix -d 'Topic prefix (default: [mqtt] topic_prefix of espmqtt.toml, else "espmqtt")' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from sync" -l timeout -d 'Seconds to wait for the broker and each answer' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from sync" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from sync" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from sync" -l dry-run -d 'Print the steps; change nothing'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from sync" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from sync" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from sync" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from sync" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from sync" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from sync" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from help" -f -a "export" -d 'Write mosquitto\'s passwd, ACL and a TLS listener snippet for the fleet'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from help" -f -a "sync" -d 'Bring a running mosquitto\'s dynamic security plugin to the registry\'s state'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand broker; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and not __fish_seen_subcommand_from show stage retire help" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and not __fish_seen_subcommand_from show stage retire help" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and not __fish_seen_subcommand_from show stage retire help" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and not __fish_seen_subcommand_from show stage retire help" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and not __fish_seen_subcommand_from show stage retire help" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and not __fish_seen_subcommand_from show stage retire help" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and not __fish_seen_subcommand_from show stage retire help" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and not __fish_seen_subcommand_from show stage retire help" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and not __fish_seen_subcommand_from show stage retire help" -f -a "show" -d 'Show the trust the project serves: current, next (staged) and retired'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and not __fish_seen_subcommand_from show stage retire help" -f -a "stage" -d 'Stage the broker\'s next certificate (file or staging listener) for the whole fleet'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and not __fish_seen_subcommand_from show stage retire help" -f -a "retire" -d 'After the broker switched: make the staged trust current and stop serving the old one'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and not __fish_seen_subcommand_from show stage retire help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from show" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from show" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from show" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from show" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from stage" -l pem -l file -d 'PEM (or DER) file with the next certificate chain (leaf first), or in ca mode the next root' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from stage" -l from -d 'A listener that already serves the next certificate (HOST:PORT)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from stage" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from stage" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from stage" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from stage" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from stage" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from stage" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from stage" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from stage" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from retire" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from retire" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from retire" -l force -d 'Retire even though some devices have not committed the staged trust'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from retire" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from retire" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from retire" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from retire" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from retire" -s h -l help -d 'Print help'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from retire" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show the trust the project serves: current, next (staged) and retired'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from help" -f -a "stage" -d 'Stage the broker\'s next certificate (file or staging listener) for the whole fleet'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from help" -f -a "retire" -d 'After the broker switched: make the staged trust current and stop serving the old one'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand trust; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l broker -d 'Broker the devices connect to (port defaults to 8883)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l wifi-ssid -d 'Wi-Fi network name' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l wifi-password -d 'Wi-Fi password (WPA2: 8 to 63 characters), stored in espmqtt.toml, which is then mode 0600 (use \'\' for an open network)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l wifi-password-env -d 'Environment variable that holds the Wi-Fi password (kept out of the file)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l topic-prefix -d 'Topics are <prefix>/<client-id>/status|cmd|heartbeat' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l board -d 'Module: esp07 (1 MB flash) or esp07s (4 MB flash). Default esp07' -r -f -a "esp07\t'ESP-07: 1 MB flash, ceramic antenna + U.FL'
esp07s\t'ESP-07S: 4 MB flash, U.FL only'"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l trust -d 'How devices authenticate the broker' -r -f -a "ca\t'`setTrustAnchors` + NTP: chain, dates and name; survives renewals'
pubkey\t'`setKnownKey`: SPKI equality; survives renewals that keep the key'
fingerprint\t'`setFingerprint`: SHA-1 of the leaf DER; breaks at every renewal'
insecure\t'`setInsecure`: no check at all'"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l ca-file -d 'PEM with the trust anchor(s) for `--trust ca` (with --from-broker: the bundle the broker\'s root is looked up in first)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l fingerprint -d 'Leaf SHA-1 for `--trust fingerprint` (repeat for the next certificate)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l pubkey-file -d 'Broker public key (PEM/DER SPKI, or a certificate) for `--trust pubkey`' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l from-broker -d 'Fetch the broker\'s chain and propose the trust mode (also sets --broker)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l force -d 'Overwrite an existing espmqtt.toml'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand init" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -l board -d 'Module: esp07 (1 MB flash) or esp07s (4 MB). Default: the board name in espmqtt.toml' -r -f -a "esp07\t'ESP-07: 1 MB flash, ceramic antenna + U.FL'
esp07s\t'ESP-07S: 4 MB flash, U.FL only'"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -l builder -d 'Which toolchain compiles the sketch' -r -f -a "auto\t'arduino-cli if installed, else PlatformIO'
arduino-cli\t''
platformio\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -l out -d 'Build directory (default: .espmqtt/build/<board>/)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -l timeout -d 'Stop a builder that runs longer than this (seconds, or 90s, 20m, 1h)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand build" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -s p -l port -d 'Serial port (`/dev/ttyUSB0`, `COM3`), `rfc2217://HOST:PORT` or `socket://HOST:PORT`; repeat it (or `auto`) with --devices to flash a fleet on several ports at once' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -s b -l baud -d 'Baud rate for writing with the flasher stub (the ROM always uses 115200)' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l path -d 'Which loader writes: auto (the cheaper by the modelled wire and flash time: the ROM for a config blob, the stub for firmware), stub (compressed, MD5-verified), rom (115200, each block checked by the ROM)' -r -f -a "auto\t'The cheaper of the two by the model'
stub\t'The flasher stub: compressed, MD5 of every region on the module'
rom\t'The ROM loader alone at 115200: each block checked by the ROM'"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -s f -l firmware -d 'Firmware image (.bin) to write at 0x0' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l device -d 'Also write this device\'s config blob (from the registry) at flash_size - 0x5000' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l flash-mode -d 'Flash mode to put in the image header (esptool --flash-mode)' -r -f -a "keep\t''
qio\t''
qout\t''
dio\t''
dout\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l flash-size -d 'Flash size to put in the image header: keep, detect, or 1MB/4MB/…' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l after -d 'What to do when done' -r -f -a "hard-reset\t'Pulse EN through RTS so the new firmware starts'
no-reset\t'Leave the module in the loader'"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l devices -d 'Devices to flash, in order: `sensor-001..sensor-100`, `a,b,c`, or repeated. Each port takes the next device not yet flashed' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l wait-timeout -d 'With --wait: stop a port that shows no new module for SECS' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l poll -d 'With --wait: seconds between two looks at a port' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l attempts -d 'Attempts per device before it is left unflashed' -r
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l no-stub -d 'Use the ROM loader only: slower (115200, uncompressed), for modules the stub fails on'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l config-only -d 'Write only the config blob of --device, not the firmware'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l read-config -d 'Read the config blob back from the module and print it (secrets redacted)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l force -d 'Write regions even when the module already holds them; write a firmware file that lacks the ESP8266 image header'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l rebind -d 'Flash a module even if its MAC is already bound to another device (the other device loses the binding)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l show-secrets -d 'Show secrets with --read-config'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l wait -d 'After each module, wait for the next one on the same port (production line); stop when the list is done'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -s q -l quiet -d 'Print only results and errors'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -l non-interactive -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand flash" -s V -l version -d 'Print version'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand monitor" -l port -d 'Serial device, rfc2217://HOST:PORT (ser2net) or socket://HOST:PORT (the emulator). Default: the only USB serial port' -r
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
complete -c espmqtt -n "__fish_espmqtt_using_subcommand ports" -l all -d 'Also list non-USB ports (built-in UARTs, Bluetooth)'
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
complete -c espmqtt -n "__fish_espmqtt_using_subcommand emulate" -l save -d 'Save the flash contents here (mode 0600: it holds every password written) after FLASH_END, MD5, idle, disconnect and on SIGTERM/SIGINT' -r -F
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
complete -c espmqtt -n "__fish_espmqtt_using_subcommand demo" -l dir -d 'Use this (empty or new) directory instead of a temporary one' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand demo" -l mosquitto -d 'The mosquitto binary to run (default: /usr/sbin/mosquitto or PATH)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand demo" -l format -d 'Output format: human text, or one JSON document (JSON Lines for streams)' -r -f -a "text\t''
json\t''"
complete -c espmqtt -n "__fish_espmqtt_using_subcommand demo" -l config -d 'Project configuration file (default: espmqtt.toml here or in a parent)' -r -F
complete -c espmqtt -n "__fish_espmqtt_using_subcommand demo" -l keep -d 'Keep the temporary project directory and print its path'
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
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker trust init build flash monitor ports emulate demo completions help" -f -a "fingerprint" -d 'Show a broker\'s certificate chain, fingerprints and pins; check them in CI'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker trust init build flash monitor ports emulate demo completions help" -f -a "probe" -d 'Check end to end, from the host, whether a device can connect to a broker'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker trust init build flash monitor ports emulate demo completions help" -f -a "device" -d 'Per-device identities and secrets (registry)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker trust init build flash monitor ports emulate demo completions help" -f -a "ca" -d 'Local certificate authority for device client certificates'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker trust init build flash monitor ports emulate demo completions help" -f -a "broker" -d 'Broker-side files for the whole fleet (mosquitto password file, ACL, config)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker trust init build flash monitor ports emulate demo completions help" -f -a "trust" -d 'The broker trust the fleet gets over MQTT: stage the next certificate, retire the old'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker trust init build flash monitor ports emulate demo completions help" -f -a "init" -d 'Create espmqtt.toml (broker, Wi-Fi, topic prefix, trust mode, board)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker trust init build flash monitor ports emulate demo completions help" -f -a "build" -d 'Render the firmware template and compile it with arduino-cli or PlatformIO'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker trust init build flash monitor ports emulate demo completions help" -f -a "flash" -d 'Write firmware and/or a device\'s configuration to a module over serial'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker trust init build flash monitor ports emulate demo completions help" -f -a "monitor" -d 'Serial console that explains boot messages, crashes and firmware status lines'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker trust init build flash monitor ports emulate demo completions help" -f -a "ports" -d 'List serial ports with their USB bridge chip'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker trust init build flash monitor ports emulate demo completions help" -f -a "emulate" -d 'Run a virtual ESP8266 serial bootloader on a TCP port'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker trust init build flash monitor ports emulate demo completions help" -f -a "demo" -d 'Run the whole job on this machine: local broker, emulator, provision, flash, probe'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker trust init build flash monitor ports emulate demo completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and not __fish_seen_subcommand_from fingerprint probe device ca broker trust init build flash monitor ports emulate demo completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "new" -d 'Create devices: a name, a secret from the OS random generator, optionally a certificate'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "list" -d 'List devices (no secrets)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "show" -d 'Show one device: identity, flash record, certificate, history'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "rotate" -d 'Give a device a new secret (the old one stops working at the next `broker export`)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "revoke" -d 'Revoke a device: its secret and certificate are retired; exports leave it out'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "export" -d 'Export the registry for other systems: CSV (default), JSON (--format json), or a whole-registry dump (--dump)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "import" -d 'Load a dump (`device export --dump`) into an empty registry of either backend'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "cert" -d 'Issue a client certificate to a device from the local CA'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "check" -d 'Check the registry: SQLite integrity and that every active device is whole'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "config" -d 'Write a device\'s config blob (Wi-Fi, broker, credentials, trust material)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "push" -d 'Push each device\'s current config over MQTT as an authenticated update; wait for acks'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "updates" -d 'Fleet update status: committed, staged and pending update, last ack, last seen'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from ca" -f -a "init" -d 'Create the local CA in .espmqtt/ca/ (EC P-256 unless --rsa)'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from ca" -f -a "show" -d 'Show the local CA'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from broker" -f -a "export" -d 'Write mosquitto\'s passwd, ACL and a TLS listener snippet for the fleet'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from broker" -f -a "sync" -d 'Bring a running mosquitto\'s dynamic security plugin to the registry\'s state'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from trust" -f -a "show" -d 'Show the trust the project serves: current, next (staged) and retired'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from trust" -f -a "stage" -d 'Stage the broker\'s next certificate (file or staging listener) for the whole fleet'
complete -c espmqtt -n "__fish_espmqtt_using_subcommand help; and __fish_seen_subcommand_from trust" -f -a "retire" -d 'After the broker switched: make the staged trust current and stop serving the old one'
