
use builtin;
use str;

set edit:completion:arg-completer[espmqtt] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'espmqtt'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'espmqtt'= {
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand fingerprint 'Show a broker''s certificate chain, fingerprints and pins; check them in CI'
            cand probe 'Check end to end, from the host, whether a device can connect to a broker'
            cand device 'Per-device identities and secrets (registry)'
            cand ca 'Local certificate authority for device client certificates'
            cand broker 'Broker-side files for the whole fleet (mosquitto password file, ACL, config)'
            cand trust 'The broker trust the fleet gets over MQTT: stage the next certificate, retire the old'
            cand init 'Create espmqtt.toml (broker, Wi-Fi, topic prefix, trust mode, board)'
            cand build 'Render the firmware template and compile it with arduino-cli or PlatformIO'
            cand flash 'Write firmware and/or a device''s configuration to a module over serial'
            cand monitor 'Serial console that explains boot messages, crashes and firmware status lines'
            cand ports 'List serial ports with their USB bridge chip'
            cand emulate 'Run a virtual ESP8266 serial bootloader on a TCP port'
            cand demo 'Run the whole job on this machine: local broker, emulator, provision, flash, probe'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'espmqtt;fingerprint'= {
            cand --servername 'Send this SNI name while connecting to HOST (connect to an IP, present a name)'
            cand --timeout 'Give up after this many seconds (DNS, connect and handshake together)'
            cand --file 'Read certificates from a PEM (one or many) or DER file instead of the network'
            cand --expect 'Exit 1 unless the leaf has this SHA-1, SHA-256 or pin-sha256 (any usual spelling). Repeat to accept any of several (current and next)'
            cand --min-days 'Exit 1 when the leaf expires within N days'
            cand --warn-days 'Warn when the leaf expires within N days'
            cand --emit 'Print paste-ready configuration instead of the summary: C++ for the ESP8266 Arduino core (all three trust modes) or Tasmota commands'
            cand --ca-file 'With --emit arduino: PEM bundle the chain''s root is looked up in before the system store (a private CA, or the root the server does not send), so the `ca` block pins the root and not an intermediate'
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand --no-sni 'Send no SNI: what a device that connects by IP address is shown'
            cand --tls12 'Ask the way an ESP8266 does, with its own TLS engine (BearSSL, TLS 1.0-1.2, no TLS 1.3): shows the certificate a device is given'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;probe'= {
            cand --device 'Take the settings of a registered device (needs the device registry)'
            cand -u 'MQTT user name'
            cand --username 'MQTT user name'
            cand --password 'MQTT password (visible in the process list: prefer --password-env)'
            cand --password-env 'Name of an environment variable holding the MQTT password'
            cand --client-id 'MQTT client id (default: the device''s, for --device or a registered user name; else the user name; else espmqtt-probe-<random>)'
            cand --trust 'How the device authenticates the broker [default: espmqtt.toml''s, else ca]'
            cand --ca-file 'Trust anchor(s) for `ca` mode, PEM (default: the system roots)'
            cand --fingerprint 'Leaf SHA-1 for `fingerprint` mode; give it twice for current and next'
            cand --pubkey-file 'Public key (SPKI PEM, or a certificate) for `pubkey` mode'
            cand --cert 'Client certificate (PEM chain) for mutual TLS'
            cand --key 'Private key of the client certificate (PEM)'
            cand --servername 'The name the device passes to connect(), sent as SNI and checked against the certificate (default: HOST, also when it is an IP address, as the firmware does)'
            cand --topic-prefix 'Topic prefix: topics are <prefix>/<client-id>/…. [default: espmqtt.toml''s, else espmqtt]'
            cand --mfln 'Device buffers setBufferSizes(N, N), i.e. the max_fragment_length it requests: 512|1024|2048|4096|off (16 KB, no request). [default: espmqtt.toml''s, else 512]'
            cand --tls-versions 'TLS versions the device enables (setSSLVersion): 1.0-1.2, 1.1-1.2, 1.2…'
            cand --ciphers 'The core''s cipher build option. [default: espmqtt.toml''s, else all]'
            cand --timeout 'Give up after this many seconds (whole probe, DNS included)'
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand --staged-trust 'Check the device''s (or, with --all, every device''s) committed and staged trust against the broker and the staged next certificate (docs/OTA.md)'
            cand --all 'With --staged-trust: every active device'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;device'= {
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand new 'Create devices: a name, a secret from the OS random generator, optionally a certificate'
            cand list 'List devices (no secrets)'
            cand show 'Show one device: identity, flash record, certificate, history'
            cand rotate 'Give a device a new secret (the old one stops working at the next `broker export`)'
            cand revoke 'Revoke a device: its secret and certificate are retired; exports leave it out'
            cand export 'Export the registry for other systems: CSV (default), JSON (--format json), or a whole-registry dump (--dump)'
            cand import 'Load a dump (`device export --dump`) into an empty registry of either backend'
            cand cert 'Issue a client certificate to a device from the local CA'
            cand check 'Check the registry: SQLite integrity and that every active device is whole'
            cand config 'Write a device''s config blob (Wi-Fi, broker, credentials, trust material)'
            cand push 'Push each device''s current config over MQTT as an authenticated update; wait for acks'
            cand updates 'Fleet update status: committed, staged and pending update, last ack, last seen'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'espmqtt;device;new'= {
            cand --prefix 'Name prefix of a numbered series'
            cand --count 'Create a numbered series of this many devices: PREFIX + number, zero-padded to 3 digits (or --width)'
            cand --start 'First number of the series (to continue one)'
            cand --width 'Zero-pad numbers to this many digits (default 3; a longer number is never cut)'
            cand --rsa 'Certificate key: RSA with this many bits instead of EC P-256'
            cand --days 'Certificate validity in days'
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand --skip-existing 'Skip names that already exist and exit 0 (they are reported as skipped)'
            cand --client-cert 'Also issue a client certificate to each device (CN = client id)'
            cand --show-secrets 'Print the generated secrets'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;device;list'= {
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;device;show'= {
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand --show-secrets 'Include the secret and the certificate''s private key'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;device;rotate'= {
            cand --timeout 'With --over-the-air: how long to wait for the device to stage the new password (e.g. 90s, 5m)'
            cand --broker 'Broker to publish to (default: [operator] broker, else [broker] host:port)'
            cand --user 'Operator''s MQTT username (default: [operator] username)'
            cand --password-env 'Variable holding the operator''s password (default: [operator] password_env, else ESPMQTT_OPERATOR_PASSWORD)'
            cand --ca-file 'CA file for the broker''s certificate (default: [operator] ca_file, else [tls] ca_file)'
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand --show-secrets 'Print the new secret'
            cand --over-the-air 'Deliver the new password as a config update over MQTT; the device keeps the old one until the broker accepted the new one'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;device;revoke'= {
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;device;export'= {
            cand --out 'Write to this file (mode 0600, atomically) instead of stdout'
            cand --dump 'Write the whole registry (every secret, key, credential date and event) as one JSON dump to FILE (mode 0600), for `device import`'
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand --show-secrets 'Include each device''s current secret'
            cand --force 'Replace the --out or --dump file even when it is not an earlier export'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;device;import'= {
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;device;cert'= {
            cand --rsa 'RSA key with this many bits instead of EC P-256'
            cand --days 'Validity in days'
            cand --out 'Also write NAME.crt, NAME.key (mode 0600) and ca.crt into this directory'
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;device;check'= {
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;device;config'= {
            cand -o 'File to write the blob to'
            cand --out 'File to write the blob to'
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand --force 'Replace FILE even when it is not a config blob'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;device;push'= {
            cand --wait 'What to wait for before exiting'
            cand --timeout 'How long to wait for the devices'' acknowledgements (e.g. 90s, 5m)'
            cand --broker 'Broker to publish to (default: [operator] broker, else [broker] host:port)'
            cand --user 'Operator''s MQTT username (default: [operator] username)'
            cand --password-env 'Variable holding the operator''s password (default: [operator] password_env, else ESPMQTT_OPERATOR_PASSWORD)'
            cand --ca-file 'CA file for the broker''s certificate (default: [operator] ca_file, else [tls] ca_file)'
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand --all 'Every active device in the registry'
            cand --rotate-key 'Also give the devices a new update key'
            cand --dry-run 'Show what would be published; change nothing (needs no broker and no password)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;device;updates'= {
            cand --refresh 'Listen to the broker this long first (e.g. 3s)'
            cand --broker 'Broker to publish to (default: [operator] broker, else [broker] host:port)'
            cand --user 'Operator''s MQTT username (default: [operator] username)'
            cand --password-env 'Variable holding the operator''s password (default: [operator] password_env, else ESPMQTT_OPERATOR_PASSWORD)'
            cand --ca-file 'CA file for the broker''s certificate (default: [operator] ca_file, else [tls] ca_file)'
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;device;help'= {
            cand new 'Create devices: a name, a secret from the OS random generator, optionally a certificate'
            cand list 'List devices (no secrets)'
            cand show 'Show one device: identity, flash record, certificate, history'
            cand rotate 'Give a device a new secret (the old one stops working at the next `broker export`)'
            cand revoke 'Revoke a device: its secret and certificate are retired; exports leave it out'
            cand export 'Export the registry for other systems: CSV (default), JSON (--format json), or a whole-registry dump (--dump)'
            cand import 'Load a dump (`device export --dump`) into an empty registry of either backend'
            cand cert 'Issue a client certificate to a device from the local CA'
            cand check 'Check the registry: SQLite integrity and that every active device is whole'
            cand config 'Write a device''s config blob (Wi-Fi, broker, credentials, trust material)'
            cand push 'Push each device''s current config over MQTT as an authenticated update; wait for acks'
            cand updates 'Fleet update status: committed, staged and pending update, last ack, last seen'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'espmqtt;device;help;new'= {
        }
        &'espmqtt;device;help;list'= {
        }
        &'espmqtt;device;help;show'= {
        }
        &'espmqtt;device;help;rotate'= {
        }
        &'espmqtt;device;help;revoke'= {
        }
        &'espmqtt;device;help;export'= {
        }
        &'espmqtt;device;help;import'= {
        }
        &'espmqtt;device;help;cert'= {
        }
        &'espmqtt;device;help;check'= {
        }
        &'espmqtt;device;help;config'= {
        }
        &'espmqtt;device;help;push'= {
        }
        &'espmqtt;device;help;updates'= {
        }
        &'espmqtt;device;help;help'= {
        }
        &'espmqtt;ca'= {
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Create the local CA in .espmqtt/ca/ (EC P-256 unless --rsa)'
            cand show 'Show the local CA'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'espmqtt;ca;init'= {
            cand --rsa 'RSA key with this many bits (2048, 3072, 4096) instead of EC P-256'
            cand --days 'Validity in days (longer than any device certificate it will sign)'
            cand --cn 'Common name of the CA certificate'
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;ca;show'= {
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;ca;help'= {
            cand init 'Create the local CA in .espmqtt/ca/ (EC P-256 unless --rsa)'
            cand show 'Show the local CA'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'espmqtt;ca;help;init'= {
        }
        &'espmqtt;ca;help;show'= {
        }
        &'espmqtt;ca;help;help'= {
        }
        &'espmqtt;broker'= {
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand export 'Write mosquitto''s passwd, ACL and a TLS listener snippet for the fleet'
            cand sync 'Bring a running mosquitto''s dynamic security plugin to the registry''s state'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'espmqtt;broker;export'= {
            cand --mosquitto 'Directory for mosquitto''s files (created if missing)'
            cand --dynsec 'Write (or update) a dynamic-security.json for mosquitto''s dynamic security plugin: one client and one role per active device; entries espmqtt does not manage (the admin) are kept'
            cand --amqtt 'Directory for amqtt''s files: passwd (Argon2id, 0600) and amqtt.yaml (TLS listener from --port/--bind/--server-cert/--server-key, per-device ACLs)'
            cand --mosquitto-version 'Follow this mosquitto version''s password hashing defaults (PBKDF2 iterations)'
            cand --admin 'A user allowed to read and write every topic (`#`); its password line is kept across exports'
            cand --topic-prefix 'Topic prefix (default: [mqtt] topic_prefix of espmqtt.toml, else "espmqtt")'
            cand --port 'Listener port (default: the [broker] port of espmqtt.toml, the one the devices connect to, else 8883)'
            cand --bind 'Listener address (default: all interfaces)'
            cand --server-cert 'Broker certificate (chain) PEM'
            cand --server-key 'Broker private key PEM'
            cand --ca-file 'CA file for the listener (`cafile`)'
            cand --client-certs 'Require client certificates'
            cand --owner 'Give the secret files (passwd, dynamic-security.json) to this user (USER or USER:GROUP), e.g. `mosquitto`, which Debian''s broker runs as; needs root. Mode stays 0600'
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand --force 'Replace a mosquitto.conf, acl or passwd in the --mosquitto directory that an earlier export did not write'
            cand --lock-out-devices-without-cert 'With --client-certs require: export even though some active devices have no certificate (the broker will refuse them)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;broker;sync'= {
            cand --dynsec 'The broker and its dynamic security admin: mqtts://ADMIN@HOST[:PORT]'
            cand --password-env 'Variable holding the admin''s password'
            cand --ca-file 'CA of the broker''s certificate (PEM); default: the public roots'
            cand --topic-prefix 'Topic prefix (default: [mqtt] topic_prefix of espmqtt.toml, else "espmqtt")'
            cand --timeout 'Seconds to wait for the broker and each answer'
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand --dry-run 'Print the steps; change nothing'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;broker;help'= {
            cand export 'Write mosquitto''s passwd, ACL and a TLS listener snippet for the fleet'
            cand sync 'Bring a running mosquitto''s dynamic security plugin to the registry''s state'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'espmqtt;broker;help;export'= {
        }
        &'espmqtt;broker;help;sync'= {
        }
        &'espmqtt;broker;help;help'= {
        }
        &'espmqtt;trust'= {
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand show 'Show the trust the project serves: current, next (staged) and retired'
            cand stage 'Stage the broker''s next certificate (file or staging listener) for the whole fleet'
            cand retire 'After the broker switched: make the staged trust current and stop serving the old one'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'espmqtt;trust;show'= {
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;trust;stage'= {
            cand --pem 'PEM (or DER) file with the next certificate chain (leaf first), or in ca mode the next root'
            cand --file 'PEM (or DER) file with the next certificate chain (leaf first), or in ca mode the next root'
            cand --from 'A listener that already serves the next certificate (HOST:PORT)'
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;trust;retire'= {
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand --force 'Retire even though some devices have not committed the staged trust'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;trust;help'= {
            cand show 'Show the trust the project serves: current, next (staged) and retired'
            cand stage 'Stage the broker''s next certificate (file or staging listener) for the whole fleet'
            cand retire 'After the broker switched: make the staged trust current and stop serving the old one'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'espmqtt;trust;help;show'= {
        }
        &'espmqtt;trust;help;stage'= {
        }
        &'espmqtt;trust;help;retire'= {
        }
        &'espmqtt;trust;help;help'= {
        }
        &'espmqtt;init'= {
            cand --broker 'Broker the devices connect to (port defaults to 8883)'
            cand --wifi-ssid 'Wi-Fi network name'
            cand --wifi-password 'Wi-Fi password (WPA2: 8 to 63 characters), stored in espmqtt.toml, which is then mode 0600 (use '''' for an open network)'
            cand --wifi-password-env 'Environment variable that holds the Wi-Fi password (kept out of the file)'
            cand --topic-prefix 'Topics are <prefix>/<client-id>/status|cmd|heartbeat'
            cand --board 'Module: esp07 (1 MB flash) or esp07s (4 MB flash). Default esp07'
            cand --trust 'How devices authenticate the broker'
            cand --ca-file 'PEM with the trust anchor(s) for `--trust ca` (with --from-broker: the bundle the broker''s root is looked up in first)'
            cand --fingerprint 'Leaf SHA-1 for `--trust fingerprint` (repeat for the next certificate)'
            cand --pubkey-file 'Broker public key (PEM/DER SPKI, or a certificate) for `--trust pubkey`'
            cand --from-broker 'Fetch the broker''s chain and propose the trust mode (also sets --broker)'
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand --force 'Overwrite an existing espmqtt.toml'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;build'= {
            cand --board 'Module: esp07 (1 MB flash) or esp07s (4 MB). Default: the board name in espmqtt.toml'
            cand --builder 'Which toolchain compiles the sketch'
            cand --out 'Build directory (default: .espmqtt/build/<board>/)'
            cand --timeout 'Stop a builder that runs longer than this (seconds, or 90s, 20m, 1h)'
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;flash'= {
            cand -p 'Serial port (`/dev/ttyUSB0`, `COM3`), `rfc2217://HOST:PORT` or `socket://HOST:PORT`; repeat it (or `auto`) with --devices to flash a fleet on several ports at once'
            cand --port 'Serial port (`/dev/ttyUSB0`, `COM3`), `rfc2217://HOST:PORT` or `socket://HOST:PORT`; repeat it (or `auto`) with --devices to flash a fleet on several ports at once'
            cand -b 'Baud rate for writing with the flasher stub (the ROM always uses 115200)'
            cand --baud 'Baud rate for writing with the flasher stub (the ROM always uses 115200)'
            cand --path 'Which loader writes: auto (the cheaper by the modelled wire and flash time: the ROM for a config blob, the stub for firmware), stub (compressed, MD5-verified), rom (115200, each block checked by the ROM)'
            cand -f 'Firmware image (.bin) to write at 0x0'
            cand --firmware 'Firmware image (.bin) to write at 0x0'
            cand --device 'Also write this device''s config blob (from the registry) at flash_size - 0x5000'
            cand --flash-mode 'Flash mode to put in the image header (esptool --flash-mode)'
            cand --flash-size 'Flash size to put in the image header: keep, detect, or 1MB/4MB/…'
            cand --after 'What to do when done'
            cand --devices 'Devices to flash, in order: `sensor-001..sensor-100`, `a,b,c`, or repeated. Each port takes the next device not yet flashed'
            cand --wait-timeout 'With --wait: stop a port that shows no new module for SECS'
            cand --poll 'With --wait: seconds between two looks at a port'
            cand --attempts 'Attempts per device before it is left unflashed'
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand --no-stub 'Use the ROM loader only: slower (115200, uncompressed), for modules the stub fails on'
            cand --config-only 'Write only the config blob of --device, not the firmware'
            cand --read-config 'Read the config blob back from the module and print it (secrets redacted)'
            cand --force 'Write regions even when the module already holds them; write a firmware file that lacks the ESP8266 image header'
            cand --rebind 'Flash a module even if its MAC is already bound to another device (the other device loses the binding)'
            cand --show-secrets 'Show secrets with --read-config'
            cand --wait 'After each module, wait for the next one on the same port (production line); stop when the list is done'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;monitor'= {
            cand --port 'Serial device, rfc2217://HOST:PORT (ser2net) or socket://HOST:PORT (the emulator). Default: the only USB serial port'
            cand --baud 'Baud rate of the firmware''s console (Serial.begin in the sketch)'
            cand --until 'Exit 0 as soon as a console line matches this regular expression'
            cand --timeout 'Exit 1 when this many seconds pass (without --until: stop after that long)'
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand --raw 'Print the console only, without explanations (text output)'
            cand --reset 'Reset the module into its firmware first (RTS/DTR auto-reset wiring)'
            cand --no-auto-baud 'Never change the baud rate on unreadable bytes'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;ports'= {
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand --all 'Also list non-USB ports (built-in UARTs, Bluetooth)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;emulate'= {
            cand --listen 'Address to listen on (port 0 = any free port; the bound address is printed)'
            cand --flash-size 'Flash size (512KB, 1MB, 2MB, 4MB, …; default from --flash-id, else 1MB)'
            cand --flash-id 'JEDEC flash id as RDID returns it (hex, e.g. 1440EF = Winbond 1 MB)'
            cand --mac 'MAC address of the (first) module'
            cand --image 'Initial flash contents (written at offset 0, rest erased)'
            cand --save 'Save the flash contents here (mode 0600: it holds every password written) after FLASH_END, MD5, idle, disconnect and on SIGTERM/SIGINT'
            cand --baud-model 'Model wire time at the current baud and flash erase/write time'
            cand --fault 'Inject a fault (repeatable); grammar below'
            cand --chip 'Chip the ROM reports (esp32 only to test that flashers refuse it)'
            cand --modules 'Modules on the bench: after a connection that wrote flash ends, the next one meets a fresh blank module with MAC+1 (saved as FILE-2.bin, …)'
            cand --boot-mode 'download = ROM loader (GPIO0 low); flash = boot the firmware in flash'
            cand --console 'Console transcript the firmware "prints" after booting from flash: the ROM banner (74880 baud) first, then FILE line by line (for `espmqtt monitor --port socket://…`)'
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand --no-sync 'Never answer SYNC (a module that is not in download mode)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;demo'= {
            cand --dir 'Use this (empty or new) directory instead of a temporary one'
            cand --mosquitto 'The mosquitto binary to run (default: /usr/sbin/mosquitto or PATH)'
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand --keep 'Keep the temporary project directory and print its path'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;completions'= {
            cand --format 'Output format: human text, or one JSON document (JSON Lines for streams)'
            cand --config 'Project configuration file (default: espmqtt.toml here or in a parent)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Print more detail (repeat for more)'
            cand --verbose 'Print more detail (repeat for more)'
            cand --no-color 'Disable colours (also honoured: the NO_COLOR environment variable)'
            cand --non-interactive 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'espmqtt;help'= {
            cand fingerprint 'Show a broker''s certificate chain, fingerprints and pins; check them in CI'
            cand probe 'Check end to end, from the host, whether a device can connect to a broker'
            cand device 'Per-device identities and secrets (registry)'
            cand ca 'Local certificate authority for device client certificates'
            cand broker 'Broker-side files for the whole fleet (mosquitto password file, ACL, config)'
            cand trust 'The broker trust the fleet gets over MQTT: stage the next certificate, retire the old'
            cand init 'Create espmqtt.toml (broker, Wi-Fi, topic prefix, trust mode, board)'
            cand build 'Render the firmware template and compile it with arduino-cli or PlatformIO'
            cand flash 'Write firmware and/or a device''s configuration to a module over serial'
            cand monitor 'Serial console that explains boot messages, crashes and firmware status lines'
            cand ports 'List serial ports with their USB bridge chip'
            cand emulate 'Run a virtual ESP8266 serial bootloader on a TCP port'
            cand demo 'Run the whole job on this machine: local broker, emulator, provision, flash, probe'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'espmqtt;help;fingerprint'= {
        }
        &'espmqtt;help;probe'= {
        }
        &'espmqtt;help;device'= {
            cand new 'Create devices: a name, a secret from the OS random generator, optionally a certificate'
            cand list 'List devices (no secrets)'
            cand show 'Show one device: identity, flash record, certificate, history'
            cand rotate 'Give a device a new secret (the old one stops working at the next `broker export`)'
            cand revoke 'Revoke a device: its secret and certificate are retired; exports leave it out'
            cand export 'Export the registry for other systems: CSV (default), JSON (--format json), or a whole-registry dump (--dump)'
            cand import 'Load a dump (`device export --dump`) into an empty registry of either backend'
            cand cert 'Issue a client certificate to a device from the local CA'
            cand check 'Check the registry: SQLite integrity and that every active device is whole'
            cand config 'Write a device''s config blob (Wi-Fi, broker, credentials, trust material)'
            cand push 'Push each device''s current config over MQTT as an authenticated update; wait for acks'
            cand updates 'Fleet update status: committed, staged and pending update, last ack, last seen'
        }
        &'espmqtt;help;device;new'= {
        }
        &'espmqtt;help;device;list'= {
        }
        &'espmqtt;help;device;show'= {
        }
        &'espmqtt;help;device;rotate'= {
        }
        &'espmqtt;help;device;revoke'= {
        }
        &'espmqtt;help;device;export'= {
        }
        &'espmqtt;help;device;import'= {
        }
        &'espmqtt;help;device;cert'= {
        }
        &'espmqtt;help;device;check'= {
        }
        &'espmqtt;help;device;config'= {
        }
        &'espmqtt;help;device;push'= {
        }
        &'espmqtt;help;device;updates'= {
        }
        &'espmqtt;help;ca'= {
            cand init 'Create the local CA in .espmqtt/ca/ (EC P-256 unless --rsa)'
            cand show 'Show the local CA'
        }
        &'espmqtt;help;ca;init'= {
        }
        &'espmqtt;help;ca;show'= {
        }
        &'espmqtt;help;broker'= {
            cand export 'Write mosquitto''s passwd, ACL and a TLS listener snippet for the fleet'
            cand sync 'Bring a running mosquitto''s dynamic security plugin to the registry''s state'
        }
        &'espmqtt;help;broker;export'= {
        }
        &'espmqtt;help;broker;sync'= {
        }
        &'espmqtt;help;trust'= {
            cand show 'Show the trust the project serves: current, next (staged) and retired'
            cand stage 'Stage the broker''s next certificate (file or staging listener) for the whole fleet'
            cand retire 'After the broker switched: make the staged trust current and stop serving the old one'
        }
        &'espmqtt;help;trust;show'= {
        }
        &'espmqtt;help;trust;stage'= {
        }
        &'espmqtt;help;trust;retire'= {
        }
        &'espmqtt;help;init'= {
        }
        &'espmqtt;help;build'= {
        }
        &'espmqtt;help;flash'= {
        }
        &'espmqtt;help;monitor'= {
        }
        &'espmqtt;help;ports'= {
        }
        &'espmqtt;help;emulate'= {
        }
        &'espmqtt;help;demo'= {
        }
        &'espmqtt;help;completions'= {
        }
        &'espmqtt;help;help'= {
        }
    ]
    $completions[$command]
}
