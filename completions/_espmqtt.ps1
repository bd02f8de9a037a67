
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'espmqtt' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'espmqtt'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'espmqtt' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('fingerprint', 'fingerprint', [CompletionResultType]::ParameterValue, 'Show a broker''s certificate chain, fingerprints and pins; check them in CI')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Check end to end, from the host, whether a device can connect to a broker')
            [CompletionResult]::new('device', 'device', [CompletionResultType]::ParameterValue, 'Per-device identities and secrets (registry)')
            [CompletionResult]::new('ca', 'ca', [CompletionResultType]::ParameterValue, 'Local certificate authority for device client certificates')
            [CompletionResult]::new('broker', 'broker', [CompletionResultType]::ParameterValue, 'Broker-side files for the whole fleet (mosquitto password file, ACL, config)')
            [CompletionResult]::new('trust', 'trust', [CompletionResultType]::ParameterValue, 'The broker trust the fleet gets over MQTT: stage the next certificate, retire the old')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create espmqtt.toml (broker, Wi-Fi, topic prefix, trust mode, board)')
            [CompletionResult]::new('build', 'build', [CompletionResultType]::ParameterValue, 'Render the firmware template and compile it with arduino-cli or PlatformIO')
            [CompletionResult]::new('flash', 'flash', [CompletionResultType]::ParameterValue, 'Write firmware and/or a device''s configuration to a module over serial')
            [CompletionResult]::new('monitor', 'monitor', [CompletionResultType]::ParameterValue, 'Serial console that explains boot messages, crashes and firmware status lines')
            [CompletionResult]::new('ports', 'ports', [CompletionResultType]::ParameterValue, 'List serial ports with their USB bridge chip')
            [CompletionResult]::new('emulate', 'emulate', [CompletionResultType]::ParameterValue, 'Run a virtual ESP8266 serial bootloader on a TCP port')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Run the whole job on this machine: local broker, emulator, provision, flash, probe')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'espmqtt;fingerprint' {
            [CompletionResult]::new('--servername', '--servername', [CompletionResultType]::ParameterName, 'Send this SNI name while connecting to HOST (connect to an IP, present a name)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this many seconds (DNS, connect and handshake together)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read certificates from a PEM (one or many) or DER file instead of the network')
            [CompletionResult]::new('--expect', '--expect', [CompletionResultType]::ParameterName, 'Exit 1 unless the leaf has this SHA-1, SHA-256 or pin-sha256 (any usual spelling). Repeat to accept any of several (current and next)')
            [CompletionResult]::new('--min-days', '--min-days', [CompletionResultType]::ParameterName, 'Exit 1 when the leaf expires within N days')
            [CompletionResult]::new('--warn-days', '--warn-days', [CompletionResultType]::ParameterName, 'Warn when the leaf expires within N days')
            [CompletionResult]::new('--emit', '--emit', [CompletionResultType]::ParameterName, 'Print paste-ready configuration instead of the summary: C++ for the ESP8266 Arduino core (all three trust modes) or Tasmota commands')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'With --emit arduino: PEM bundle the chain''s root is looked up in before the system store (a private CA, or the root the server does not send), so the `ca` block pins the root and not an intermediate')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('--no-sni', '--no-sni', [CompletionResultType]::ParameterName, 'Send no SNI: what a device that connects by IP address is shown')
            [CompletionResult]::new('--tls12', '--tls12', [CompletionResultType]::ParameterName, 'Ask the way an ESP8266 does, with its own TLS engine (BearSSL, TLS 1.0-1.2, no TLS 1.3): shows the certificate a device is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;probe' {
            [CompletionResult]::new('--device', '--device', [CompletionResultType]::ParameterName, 'Take the settings of a registered device (needs the device registry)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'MQTT user name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'MQTT user name')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'MQTT password (visible in the process list: prefer --password-env)')
            [CompletionResult]::new('--password-env', '--password-env', [CompletionResultType]::ParameterName, 'Name of an environment variable holding the MQTT password')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'MQTT client id (default: the device''s, for --device or a registered user name; else the user name; else espmqtt-probe-<random>)')
            [CompletionResult]::new('--trust', '--trust', [CompletionResultType]::ParameterName, 'How the device authenticates the broker [default: espmqtt.toml''s, else ca]')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Trust anchor(s) for `ca` mode, PEM (default: the system roots)')
            [CompletionResult]::new('--fingerprint', '--fingerprint', [CompletionResultType]::ParameterName, 'Leaf SHA-1 for `fingerprint` mode; give it twice for current and next')
            [CompletionResult]::new('--pubkey-file', '--pubkey-file', [CompletionResultType]::ParameterName, 'Public key (SPKI PEM, or a certificate) for `pubkey` mode')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM chain) for mutual TLS')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key of the client certificate (PEM)')
            [CompletionResult]::new('--servername', '--servername', [CompletionResultType]::ParameterName, 'The name the device passes to connect(), sent as SNI and checked against the certificate (default: HOST, also when it is an IP address, as the firmware does)')
            [CompletionResult]::new('--topic-prefix', '--topic-prefix', [CompletionResultType]::ParameterName, 'Topic prefix: topics are <prefix>/<client-id>/…. [default: espmqtt.toml''s, else espmqtt]')
            [CompletionResult]::new('--mfln', '--mfln', [CompletionResultType]::ParameterName, 'Device buffers setBufferSizes(N, N), i.e. the max_fragment_length it requests: 512|1024|2048|4096|off (16 KB, no request). [default: espmqtt.toml''s, else 512]')
            [CompletionResult]::new('--tls-versions', '--tls-versions', [CompletionResultType]::ParameterName, 'TLS versions the device enables (setSSLVersion): 1.0-1.2, 1.1-1.2, 1.2…')
            [CompletionResult]::new('--ciphers', '--ciphers', [CompletionResultType]::ParameterName, 'The core''s cipher build option. [default: espmqtt.toml''s, else all]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this many seconds (whole probe, DNS included)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('--staged-trust', '--staged-trust', [CompletionResultType]::ParameterName, 'Check the device''s (or, with --all, every device''s) committed and staged trust against the broker and the staged next certificate (docs/OTA.md)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'With --staged-trust: every active device')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;device' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('new', 'new', [CompletionResultType]::ParameterValue, 'Create devices: a name, a secret from the OS random generator, optionally a certificate')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List devices (no secrets)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one device: identity, flash record, certificate, history')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Give a device a new secret (the old one stops working at the next `broker export`)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a device: its secret and certificate are retired; exports leave it out')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Export the registry for other systems: CSV (default), JSON (--format json), or a whole-registry dump (--dump)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Load a dump (`device export --dump`) into an empty registry of either backend')
            [CompletionResult]::new('cert', 'cert', [CompletionResultType]::ParameterValue, 'Issue a client certificate to a device from the local CA')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check the registry: SQLite integrity and that every active device is whole')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Write a device''s config blob (Wi-Fi, broker, credentials, trust material)')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Push each device''s current config over MQTT as an authenticated update; wait for acks')
            [CompletionResult]::new('updates', 'updates', [CompletionResultType]::ParameterValue, 'Fleet update status: committed, staged and pending update, last ack, last seen')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'espmqtt;device;new' {
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Name prefix of a numbered series')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Create a numbered series of this many devices: PREFIX + number, zero-padded to 3 digits (or --width)')
            [CompletionResult]::new('--start', '--start', [CompletionResultType]::ParameterName, 'First number of the series (to continue one)')
            [CompletionResult]::new('--width', '--width', [CompletionResultType]::ParameterName, 'Zero-pad numbers to this many digits (default 3; a longer number is never cut)')
            [CompletionResult]::new('--rsa', '--rsa', [CompletionResultType]::ParameterName, 'Certificate key: RSA with this many bits instead of EC P-256')
            [CompletionResult]::new('--days', '--days', [CompletionResultType]::ParameterName, 'Certificate validity in days')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('--skip-existing', '--skip-existing', [CompletionResultType]::ParameterName, 'Skip names that already exist and exit 0 (they are reported as skipped)')
            [CompletionResult]::new('--client-cert', '--client-cert', [CompletionResultType]::ParameterName, 'Also issue a client certificate to each device (CN = client id)')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Print the generated secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;device;list' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;device;show' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Include the secret and the certificate''s private key')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;device;rotate' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'With --over-the-air: how long to wait for the device to stage the new password (e.g. 90s, 5m)')
            [CompletionResult]::new('--broker', '--broker', [CompletionResultType]::ParameterName, 'Broker to publish to (default: [operator] broker, else [broker] host:port)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Operator''s MQTT username (default: [operator] username)')
            [CompletionResult]::new('--password-env', '--password-env', [CompletionResultType]::ParameterName, 'Variable holding the operator''s password (default: [operator] password_env, else ESPMQTT_OPERATOR_PASSWORD)')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'CA file for the broker''s certificate (default: [operator] ca_file, else [tls] ca_file)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Print the new secret')
            [CompletionResult]::new('--over-the-air', '--over-the-air', [CompletionResultType]::ParameterName, 'Deliver the new password as a config update over MQTT; the device keeps the old one until the broker accepted the new one')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;device;revoke' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;device;export' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Write to this file (mode 0600, atomically) instead of stdout')
            [CompletionResult]::new('--dump', '--dump', [CompletionResultType]::ParameterName, 'Write the whole registry (every secret, key, credential date and event) as one JSON dump to FILE (mode 0600), for `device import`')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Include each device''s current secret')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace the --out or --dump file even when it is not an earlier export')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;device;import' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;device;cert' {
            [CompletionResult]::new('--rsa', '--rsa', [CompletionResultType]::ParameterName, 'RSA key with this many bits instead of EC P-256')
            [CompletionResult]::new('--days', '--days', [CompletionResultType]::ParameterName, 'Validity in days')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Also write NAME.crt, NAME.key (mode 0600) and ca.crt into this directory')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;device;check' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;device;config' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'File to write the blob to')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'File to write the blob to')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace FILE even when it is not a config blob')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;device;push' {
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'What to wait for before exiting')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the devices'' acknowledgements (e.g. 90s, 5m)')
            [CompletionResult]::new('--broker', '--broker', [CompletionResultType]::ParameterName, 'Broker to publish to (default: [operator] broker, else [broker] host:port)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Operator''s MQTT username (default: [operator] username)')
            [CompletionResult]::new('--password-env', '--password-env', [CompletionResultType]::ParameterName, 'Variable holding the operator''s password (default: [operator] password_env, else ESPMQTT_OPERATOR_PASSWORD)')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'CA file for the broker''s certificate (default: [operator] ca_file, else [tls] ca_file)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every active device in the registry')
            [CompletionResult]::new('--rotate-key', '--rotate-key', [CompletionResultType]::ParameterName, 'Also give the devices a new update key')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be published; change nothing (needs no broker and no password)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;device;updates' {
            [CompletionResult]::new('--refresh', '--refresh', [CompletionResultType]::ParameterName, 'Listen to the broker this long first (e.g. 3s)')
            [CompletionResult]::new('--broker', '--broker', [CompletionResultType]::ParameterName, 'Broker to publish to (default: [operator] broker, else [broker] host:port)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Operator''s MQTT username (default: [operator] username)')
            [CompletionResult]::new('--password-env', '--password-env', [CompletionResultType]::ParameterName, 'Variable holding the operator''s password (default: [operator] password_env, else ESPMQTT_OPERATOR_PASSWORD)')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'CA file for the broker''s certificate (default: [operator] ca_file, else [tls] ca_file)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;device;help' {
            [CompletionResult]::new('new', 'new', [CompletionResultType]::ParameterValue, 'Create devices: a name, a secret from the OS random generator, optionally a certificate')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List devices (no secrets)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one device: identity, flash record, certificate, history')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Give a device a new secret (the old one stops working at the next `broker export`)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a device: its secret and certificate are retired; exports leave it out')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Export the registry for other systems: CSV (default), JSON (--format json), or a whole-registry dump (--dump)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Load a dump (`device export --dump`) into an empty registry of either backend')
            [CompletionResult]::new('cert', 'cert', [CompletionResultType]::ParameterValue, 'Issue a client certificate to a device from the local CA')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check the registry: SQLite integrity and that every active device is whole')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Write a device''s config blob (Wi-Fi, broker, credentials, trust material)')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Push each device''s current config over MQTT as an authenticated update; wait for acks')
            [CompletionResult]::new('updates', 'updates', [CompletionResultType]::ParameterValue, 'Fleet update status: committed, staged and pending update, last ack, last seen')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'espmqtt;device;help;new' {
            break
        }
        'espmqtt;device;help;list' {
            break
        }
        'espmqtt;device;help;show' {
            break
        }
        'espmqtt;device;help;rotate' {
            break
        }
        'espmqtt;device;help;revoke' {
            break
        }
        'espmqtt;device;help;export' {
            break
        }
        'espmqtt;device;help;import' {
            break
        }
        'espmqtt;device;help;cert' {
            break
        }
        'espmqtt;device;help;check' {
            break
        }
        'espmqtt;device;help;config' {
            break
        }
        'espmqtt;device;help;push' {
            break
        }
        'espmqtt;device;help;updates' {
            break
        }
        'espmqtt;device;help;help' {
            break
        }
        'espmqtt;ca' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the local CA in .espmqtt/ca/ (EC P-256 unless --rsa)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the local CA')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'espmqtt;ca;init' {
            [CompletionResult]::new('--rsa', '--rsa', [CompletionResultType]::ParameterName, 'RSA key with this many bits (2048, 3072, 4096) instead of EC P-256')
            [CompletionResult]::new('--days', '--days', [CompletionResultType]::ParameterName, 'Validity in days (longer than any device certificate it will sign)')
            [CompletionResult]::new('--cn', '--cn', [CompletionResultType]::ParameterName, 'Common name of the CA certificate')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;ca;show' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;ca;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the local CA in .espmqtt/ca/ (EC P-256 unless --rsa)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the local CA')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'espmqtt;ca;help;init' {
            break
        }
        'espmqtt;ca;help;show' {
            break
        }
        'espmqtt;ca;help;help' {
            break
        }
        'espmqtt;broker' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write mosquitto''s passwd, ACL and a TLS listener snippet for the fleet')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Bring a running mosquitto''s dynamic security plugin to the registry''s state')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'espmqtt;broker;export' {
            [CompletionResult]::new('--mosquitto', '--mosquitto', [CompletionResultType]::ParameterName, 'Directory for mosquitto''s files (created if missing)')
            [CompletionResult]::new('--dynsec', '--dynsec', [CompletionResultType]::ParameterName, 'Write (or update) a dynamic-security.json for mosquitto''s dynamic security plugin: one client and one role per active device; entries espmqtt does not manage (the admin) are kept')
            [CompletionResult]::new('--amqtt', '--amqtt', [CompletionResultType]::ParameterName, 'Directory for amqtt''s files: passwd (Argon2id, 0600) and amqtt.yaml (TLS listener from --port/--bind/--server-cert/--server-key, per-device ACLs)')
            [CompletionResult]::new('--mosquitto-version', '--mosquitto-version', [CompletionResultType]::ParameterName, 'Follow this mosquitto version''s password hashing defaults (PBKDF2 iterations)')
            [CompletionResult]::new('--admin', '--admin', [CompletionResultType]::ParameterName, 'A user allowed to read and write every topic (`#`); its password line is kept across exports')
            [CompletionResult]::new('--topic-prefix', '--topic-prefix', [CompletionResultType]::ParameterName, 'Topic prefix (default: [mqtt] topic_prefix of espmqtt.toml, else "espmqtt")')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Listener port (default: the [broker] port of espmqtt.toml, the one the devices connect to, else 8883)')
            [CompletionResult]::new('--bind', '--bind', [CompletionResultType]::ParameterName, 'Listener address (default: all interfaces)')
            [CompletionResult]::new('--server-cert', '--server-cert', [CompletionResultType]::ParameterName, 'Broker certificate (chain) PEM')
            [CompletionResult]::new('--server-key', '--server-key', [CompletionResultType]::ParameterName, 'Broker private key PEM')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'CA file for the listener (`cafile`)')
            [CompletionResult]::new('--client-certs', '--client-certs', [CompletionResultType]::ParameterName, 'Require client certificates')
            [CompletionResult]::new('--owner', '--owner', [CompletionResultType]::ParameterName, 'Give the secret files (passwd, dynamic-security.json) to this user (USER or USER:GROUP), e.g. `mosquitto`, which Debian''s broker runs as; needs root. Mode stays 0600')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace a mosquitto.conf, acl or passwd in the --mosquitto directory that an earlier export did not write')
            [CompletionResult]::new('--lock-out-devices-without-cert', '--lock-out-devices-without-cert', [CompletionResultType]::ParameterName, 'With --client-certs require: export even though some active devices have no certificate (the broker will refuse them)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;broker;sync' {
            [CompletionResult]::new('--dynsec', '--dynsec', [CompletionResultType]::ParameterName, 'The broker and its dynamic security admin: mqtts://ADMIN@HOST[:PORT]')
            [CompletionResult]::new('--password-env', '--password-env', [CompletionResultType]::ParameterName, 'Variable holding the admin''s password')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'CA of the broker''s certificate (PEM); default: the public roots')
            [CompletionResult]::new('--topic-prefix', '--topic-prefix', [CompletionResultType]::ParameterName, 'Topic prefix (default: [mqtt] topic_prefix of espmqtt.toml, else "espmqtt")')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the broker and each answer')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the steps; change nothing')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;broker;help' {
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write mosquitto''s passwd, ACL and a TLS listener snippet for the fleet')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Bring a running mosquitto''s dynamic security plugin to the registry''s state')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'espmqtt;broker;help;export' {
            break
        }
        'espmqtt;broker;help;sync' {
            break
        }
        'espmqtt;broker;help;help' {
            break
        }
        'espmqtt;trust' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the trust the project serves: current, next (staged) and retired')
            [CompletionResult]::new('stage', 'stage', [CompletionResultType]::ParameterValue, 'Stage the broker''s next certificate (file or staging listener) for the whole fleet')
            [CompletionResult]::new('retire', 'retire', [CompletionResultType]::ParameterValue, 'After the broker switched: make the staged trust current and stop serving the old one')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'espmqtt;trust;show' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;trust;stage' {
            [CompletionResult]::new('--pem', '--pem', [CompletionResultType]::ParameterName, 'PEM (or DER) file with the next certificate chain (leaf first), or in ca mode the next root')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'PEM (or DER) file with the next certificate chain (leaf first), or in ca mode the next root')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'A listener that already serves the next certificate (HOST:PORT)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;trust;retire' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Retire even though some devices have not committed the staged trust')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;trust;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the trust the project serves: current, next (staged) and retired')
            [CompletionResult]::new('stage', 'stage', [CompletionResultType]::ParameterValue, 'Stage the broker''s next certificate (file or staging listener) for the whole fleet')
            [CompletionResult]::new('retire', 'retire', [CompletionResultType]::ParameterValue, 'After the broker switched: make the staged trust current and stop serving the old one')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'espmqtt;trust;help;show' {
            break
        }
        'espmqtt;trust;help;stage' {
            break
        }
        'espmqtt;trust;help;retire' {
            break
        }
        'espmqtt;trust;help;help' {
            break
        }
        'espmqtt;init' {
            [CompletionResult]::new('--broker', '--broker', [CompletionResultType]::ParameterName, 'Broker the devices connect to (port defaults to 8883)')
            [CompletionResult]::new('--wifi-ssid', '--wifi-ssid', [CompletionResultType]::ParameterName, 'Wi-Fi network name')
            [CompletionResult]::new('--wifi-password', '--wifi-password', [CompletionResultType]::ParameterName, 'Wi-Fi password (WPA2: 8 to 63 characters), stored in espmqtt.toml, which is then mode 0600 (use '''' for an open network)')
            [CompletionResult]::new('--wifi-password-env', '--wifi-password-env', [CompletionResultType]::ParameterName, 'Environment variable that holds the Wi-Fi password (kept out of the file)')
            [CompletionResult]::new('--topic-prefix', '--topic-prefix', [CompletionResultType]::ParameterName, 'Topics are <prefix>/<client-id>/status|cmd|heartbeat')
            [CompletionResult]::new('--board', '--board', [CompletionResultType]::ParameterName, 'Module: esp07 (1 MB flash) or esp07s (4 MB flash). Default esp07')
            [CompletionResult]::new('--trust', '--trust', [CompletionResultType]::ParameterName, 'How devices authenticate the broker')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'PEM with the trust anchor(s) for `--trust ca` (with --from-broker: the bundle the broker''s root is looked up in first)')
            [CompletionResult]::new('--fingerprint', '--fingerprint', [CompletionResultType]::ParameterName, 'Leaf SHA-1 for `--trust fingerprint` (repeat for the next certificate)')
            [CompletionResult]::new('--pubkey-file', '--pubkey-file', [CompletionResultType]::ParameterName, 'Broker public key (PEM/DER SPKI, or a certificate) for `--trust pubkey`')
            [CompletionResult]::new('--from-broker', '--from-broker', [CompletionResultType]::ParameterName, 'Fetch the broker''s chain and propose the trust mode (also sets --broker)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite an existing espmqtt.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;build' {
            [CompletionResult]::new('--board', '--board', [CompletionResultType]::ParameterName, 'Module: esp07 (1 MB flash) or esp07s (4 MB). Default: the board name in espmqtt.toml')
            [CompletionResult]::new('--builder', '--builder', [CompletionResultType]::ParameterName, 'Which toolchain compiles the sketch')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Build directory (default: .espmqtt/build/<board>/)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Stop a builder that runs longer than this (seconds, or 90s, 20m, 1h)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;flash' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Serial port (`/dev/ttyUSB0`, `COM3`), `rfc2217://HOST:PORT` or `socket://HOST:PORT`; repeat it (or `auto`) with --devices to flash a fleet on several ports at once')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Serial port (`/dev/ttyUSB0`, `COM3`), `rfc2217://HOST:PORT` or `socket://HOST:PORT`; repeat it (or `auto`) with --devices to flash a fleet on several ports at once')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Baud rate for writing with the flasher stub (the ROM always uses 115200)')
            [CompletionResult]::new('--baud', '--baud', [CompletionResultType]::ParameterName, 'Baud rate for writing with the flasher stub (the ROM always uses 115200)')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Which loader writes: auto (the cheaper by the modelled wire and flash time: the ROM for a config blob, the stub for firmware), stub (compressed, MD5-verified), rom (115200, each block checked by the ROM)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Firmware image (.bin) to write at 0x0')
            [CompletionResult]::new('--firmware', '--firmware', [CompletionResultType]::ParameterName, 'Firmware image (.bin) to write at 0x0')
            [CompletionResult]::new('--device', '--device', [CompletionResultType]::ParameterName, 'Also write this device''s config blob (from the registry) at flash_size - 0x5000')
            [CompletionResult]::new('--flash-mode', '--flash-mode', [CompletionResultType]::ParameterName, 'Flash mode to put in the image header (esptool --flash-mode)')
            [CompletionResult]::new('--flash-size', '--flash-size', [CompletionResultType]::ParameterName, 'Flash size to put in the image header: keep, detect, or 1MB/4MB/…')
            [CompletionResult]::new('--after', '--after', [CompletionResultType]::ParameterName, 'What to do when done')
            [CompletionResult]::new('--devices', '--devices', [CompletionResultType]::ParameterName, 'Devices to flash, in order: `sensor-001..sensor-100`, `a,b,c`, or repeated. Each port takes the next device not yet flashed')
            [CompletionResult]::new('--wait-timeout', '--wait-timeout', [CompletionResultType]::ParameterName, 'With --wait: stop a port that shows no new module for SECS')
            [CompletionResult]::new('--poll', '--poll', [CompletionResultType]::ParameterName, 'With --wait: seconds between two looks at a port')
            [CompletionResult]::new('--attempts', '--attempts', [CompletionResultType]::ParameterName, 'Attempts per device before it is left unflashed')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('--no-stub', '--no-stub', [CompletionResultType]::ParameterName, 'Use the ROM loader only: slower (115200, uncompressed), for modules the stub fails on')
            [CompletionResult]::new('--config-only', '--config-only', [CompletionResultType]::ParameterName, 'Write only the config blob of --device, not the firmware')
            [CompletionResult]::new('--read-config', '--read-config', [CompletionResultType]::ParameterName, 'Read the config blob back from the module and print it (secrets redacted)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Write regions even when the module already holds them; write a firmware file that lacks the ESP8266 image header')
            [CompletionResult]::new('--rebind', '--rebind', [CompletionResultType]::ParameterName, 'Flash a module even if its MAC is already bound to another device (the other device loses the binding)')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Show secrets with --read-config')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'After each module, wait for the next one on the same port (production line); stop when the list is done')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;monitor' {
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Serial device, rfc2217://HOST:PORT (ser2net) or socket://HOST:PORT (the emulator). Default: the only USB serial port')
            [CompletionResult]::new('--baud', '--baud', [CompletionResultType]::ParameterName, 'Baud rate of the firmware''s console (Serial.begin in the sketch)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Exit 0 as soon as a console line matches this regular expression')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Exit 1 when this many seconds pass (without --until: stop after that long)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('--raw', '--raw', [CompletionResultType]::ParameterName, 'Print the console only, without explanations (text output)')
            [CompletionResult]::new('--reset', '--reset', [CompletionResultType]::ParameterName, 'Reset the module into its firmware first (RTS/DTR auto-reset wiring)')
            [CompletionResult]::new('--no-auto-baud', '--no-auto-baud', [CompletionResultType]::ParameterName, 'Never change the baud rate on unreadable bytes')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;ports' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Also list non-USB ports (built-in UARTs, Bluetooth)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;emulate' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on (port 0 = any free port; the bound address is printed)')
            [CompletionResult]::new('--flash-size', '--flash-size', [CompletionResultType]::ParameterName, 'Flash size (512KB, 1MB, 2MB, 4MB, …; default from --flash-id, else 1MB)')
            [CompletionResult]::new('--flash-id', '--flash-id', [CompletionResultType]::ParameterName, 'JEDEC flash id as RDID returns it (hex, e.g. 1440EF = Winbond 1 MB)')
            [CompletionResult]::new('--mac', '--mac', [CompletionResultType]::ParameterName, 'MAC address of the (first) module')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'Initial flash contents (written at offset 0, rest erased)')
            [CompletionResult]::new('--save', '--save', [CompletionResultType]::ParameterName, 'Save the flash contents here (mode 0600: it holds every password written) after FLASH_END, MD5, idle, disconnect and on SIGTERM/SIGINT')
            [CompletionResult]::new('--baud-model', '--baud-model', [CompletionResultType]::ParameterName, 'Model wire time at the current baud and flash erase/write time')
            [CompletionResult]::new('--fault', '--fault', [CompletionResultType]::ParameterName, 'Inject a fault (repeatable); grammar below')
            [CompletionResult]::new('--chip', '--chip', [CompletionResultType]::ParameterName, 'Chip the ROM reports (esp32 only to test that flashers refuse it)')
            [CompletionResult]::new('--modules', '--modules', [CompletionResultType]::ParameterName, 'Modules on the bench: after a connection that wrote flash ends, the next one meets a fresh blank module with MAC+1 (saved as FILE-2.bin, …)')
            [CompletionResult]::new('--boot-mode', '--boot-mode', [CompletionResultType]::ParameterName, 'download = ROM loader (GPIO0 low); flash = boot the firmware in flash')
            [CompletionResult]::new('--console', '--console', [CompletionResultType]::ParameterName, 'Console transcript the firmware "prints" after booting from flash: the ROM banner (74880 baud) first, then FILE line by line (for `espmqtt monitor --port socket://…`)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('--no-sync', '--no-sync', [CompletionResultType]::ParameterName, 'Never answer SYNC (a module that is not in download mode)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;demo' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Use this (empty or new) directory instead of a temporary one')
            [CompletionResult]::new('--mosquitto', '--mosquitto', [CompletionResultType]::ParameterName, 'The mosquitto binary to run (default: /usr/sbin/mosquitto or PATH)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'Keep the temporary project directory and print its path')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;completions' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document (JSON Lines for streams)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Project configuration file (default: espmqtt.toml here or in a parent)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for more)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colours (also honoured: the NO_COLOR environment variable)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'espmqtt;help' {
            [CompletionResult]::new('fingerprint', 'fingerprint', [CompletionResultType]::ParameterValue, 'Show a broker''s certificate chain, fingerprints and pins; check them in CI')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Check end to end, from the host, whether a device can connect to a broker')
            [CompletionResult]::new('device', 'device', [CompletionResultType]::ParameterValue, 'Per-device identities and secrets (registry)')
            [CompletionResult]::new('ca', 'ca', [CompletionResultType]::ParameterValue, 'Local certificate authority for device client certificates')
            [CompletionResult]::new('broker', 'broker', [CompletionResultType]::ParameterValue, 'Broker-side files for the whole fleet (mosquitto password file, ACL, config)')
            [CompletionResult]::new('trust', 'trust', [CompletionResultType]::ParameterValue, 'The broker trust the fleet gets over MQTT: stage the next certificate, retire the old')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create espmqtt.toml (broker, Wi-Fi, topic prefix, trust mode, board)')
            [CompletionResult]::new('build', 'build', [CompletionResultType]::ParameterValue, 'Render the firmware template and compile it with arduino-cli or PlatformIO')
            [CompletionResult]::new('flash', 'flash', [CompletionResultType]::ParameterValue, 'Write firmware and/or a device''s configuration to a module over serial')
            [CompletionResult]::new('monitor', 'monitor', [CompletionResultType]::ParameterValue, 'Serial console that explains boot messages, crashes and firmware status lines')
            [CompletionResult]::new('ports', 'ports', [CompletionResultType]::ParameterValue, 'List serial ports with their USB bridge chip')
            [CompletionResult]::new('emulate', 'emulate', [CompletionResultType]::ParameterValue, 'Run a virtual ESP8266 serial bootloader on a TCP port')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Run the whole job on this machine: local broker, emulator, provision, flash, probe')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'espmqtt;help;fingerprint' {
            break
        }
        'espmqtt;help;probe' {
            break
        }
        'espmqtt;help;device' {
            [CompletionResult]::new('new', 'new', [CompletionResultType]::ParameterValue, 'Create devices: a name, a secret from the OS random generator, optionally a certificate')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List devices (no secrets)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one device: identity, flash record, certificate, history')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Give a device a new secret (the old one stops working at the next `broker export`)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a device: its secret and certificate are retired; exports leave it out')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Export the registry for other systems: CSV (default), JSON (--format json), or a whole-registry dump (--dump)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Load a dump (`device export --dump`) into an empty registry of either backend')
            [CompletionResult]::new('cert', 'cert', [CompletionResultType]::ParameterValue, 'Issue a client certificate to a device from the local CA')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check the registry: SQLite integrity and that every active device is whole')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Write a device''s config blob (Wi-Fi, broker, credentials, trust material)')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Push each device''s current config over MQTT as an authenticated update; wait for acks')
            [CompletionResult]::new('updates', 'updates', [CompletionResultType]::ParameterValue, 'Fleet update status: committed, staged and pending update, last ack, last seen')
            break
        }
        'espmqtt;help;device;new' {
            break
        }
        'espmqtt;help;device;list' {
            break
        }
        'espmqtt;help;device;show' {
            break
        }
        'espmqtt;help;device;rotate' {
            break
        }
        'espmqtt;help;device;revoke' {
            break
        }
        'espmqtt;help;device;export' {
            break
        }
        'espmqtt;help;device;import' {
            break
        }
        'espmqtt;help;device;cert' {
            break
        }
        'espmqtt;help;device;check' {
            break
        }
        'espmqtt;help;device;config' {
            break
        }
        'espmqtt;help;device;push' {
            break
        }
        'espmqtt;help;device;updates' {
            break
        }
        'espmqtt;help;ca' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the local CA in .espmqtt/ca/ (EC P-256 unless --rsa)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the local CA')
            break
        }
        'espmqtt;help;ca;init' {
            break
        }
        'espmqtt;help;ca;show' {
            break
        }
        'espmqtt;help;broker' {
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write mosquitto''s passwd, ACL and a TLS listener snippet for the fleet')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Bring a running mosquitto''s dynamic security plugin to the registry''s state')
            break
        }
        'espmqtt;help;broker;export' {
            break
        }
        'espmqtt;help;broker;sync' {
            break
        }
        'espmqtt;help;trust' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the trust the project serves: current, next (staged) and retired')
            [CompletionResult]::new('stage', 'stage', [CompletionResultType]::ParameterValue, 'Stage the broker''s next certificate (file or staging listener) for the whole fleet')
            [CompletionResult]::new('retire', 'retire', [CompletionResultType]::ParameterValue, 'After the broker switched: make the staged trust current and stop serving the old one')
            break
        }
        'espmqtt;help;trust;show' {
            break
        }
        'espmqtt;help;trust;stage' {
            break
        }
        'espmqtt;help;trust;retire' {
            break
        }
        'espmqtt;help;init' {
            break
        }
        'espmqtt;help;build' {
            break
        }
        'espmqtt;help;flash' {
            break
        }
        'espmqtt;help;monitor' {
            break
        }
        'espmqtt;help;ports' {
            break
        }
        'espmqtt;help;emulate' {
            break
        }
        'espmqtt;help;demo' {
            break
        }
        'espmqtt;help;completions' {
            break
        }
        'espmqtt;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
