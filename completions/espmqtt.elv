
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
        &'espmqtt;probe'= {
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
            cand list 'List devices'
            cand config 'Write a device''s config blob (Wi-Fi, broker, credentials, trust material)'
            cand help 'Print this message or the help of the given subcommand(s)'
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
        &'espmqtt;device;config'= {
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
            cand list 'List devices'
            cand config 'Write a device''s config blob (Wi-Fi, broker, credentials, trust material)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'espmqtt;device;help;list'= {
        }
        &'espmqtt;device;help;config'= {
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
            cand init 'Create the local CA in .espmqtt/ca/'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'espmqtt;ca;init'= {
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
            cand init 'Create the local CA in .espmqtt/ca/'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'espmqtt;ca;help;init'= {
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
            cand export 'Write broker-side files for the fleet'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'espmqtt;broker;export'= {
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
        &'espmqtt;broker;help'= {
            cand export 'Write broker-side files for the fleet'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'espmqtt;broker;help;export'= {
        }
        &'espmqtt;broker;help;help'= {
        }
        &'espmqtt;init'= {
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
        &'espmqtt;build'= {
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
        &'espmqtt;flash'= {
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
        &'espmqtt;monitor'= {
            cand --port 'Serial device, or socket://HOST:PORT (the emulator). Default: the only USB serial port'
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
            cand --save 'Save the flash contents here after FLASH_END, MD5, idle, disconnect and on SIGTERM/SIGINT'
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
            cand list 'List devices'
            cand config 'Write a device''s config blob (Wi-Fi, broker, credentials, trust material)'
        }
        &'espmqtt;help;device;list'= {
        }
        &'espmqtt;help;device;config'= {
        }
        &'espmqtt;help;ca'= {
            cand init 'Create the local CA in .espmqtt/ca/'
        }
        &'espmqtt;help;ca;init'= {
        }
        &'espmqtt;help;broker'= {
            cand export 'Write broker-side files for the fleet'
        }
        &'espmqtt;help;broker;export'= {
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
