//! What `espmqtt emulate` is asked to model, and the firmware that runs
//! once the chip leaves the bootloader.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::chip::{format_mac, Chip, DEFAULT_MAC};
use super::device::BootReason;
use super::faults::FaultSpec;
use super::timing::TimingModel;

/// What the chip does when a connection (= reset) starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BootMode {
    /// GPIO0 low: the ROM serial loader (`boot mode:(1,x)`).
    #[default]
    Download,
    /// GPIO0 high: boot the firmware in flash; the loader never answers.
    Flash,
}

/// Output of the firmware after a boot from flash: bytes sent `at` a time
/// after the boot, at the UART rate the firmware uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleChunk {
    pub at: Duration,
    pub bytes: Vec<u8>,
}

/// What runs when the emulated chip leaves the bootloader. The ROM's own
/// boot log (`--boot-mode flash`) is printed by the emulator before this;
/// the default ([`SilentFirmware`]) then prints nothing. A console replay
/// (firmware status lines, crashes) implements this trait.
pub trait Firmware: Send + Sync {
    /// Console output after a boot; `flash` is the current contents.
    fn boot(&self, flash: &[u8], reason: BootReason) -> Vec<ConsoleChunk>;
    /// UART baud of that output (the ROM prints at 74880, Arduino
    /// firmware typically at 115200).
    fn baud(&self) -> u32 {
        115_200
    }
}

/// Firmware that says nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct SilentFirmware;

impl Firmware for SilentFirmware {
    fn boot(&self, _flash: &[u8], _reason: BootReason) -> Vec<ConsoleChunk> {
        Vec::new()
    }
}

/// Everything `espmqtt emulate` was asked to model.
#[derive(Clone)]
pub struct EmulatorConfig {
    pub chip: Chip,
    pub flash_size: u32,
    /// JEDEC id as RDID returns it in W0 (e.g. 0x1440EF = Winbond 1 MB).
    pub flash_id: u32,
    /// MAC of the first module; module k has MAC + k.
    pub mac: [u8; 6],
    /// Initial contents of the first module's flash.
    pub image: Option<Vec<u8>>,
    /// Where to save the flash; with several modules, `-<k>` (1-based) is
    /// inserted before the extension.
    pub save: Option<PathBuf>,
    pub timing: TimingModel,
    pub faults: Vec<FaultSpec>,
    /// Never answer SYNC (a module not in download mode).
    pub no_sync: bool,
    pub boot_mode: BootMode,
    /// Number of modules on the bench: after a connection that wrote flash
    /// ends, the next connection meets a fresh blank module.
    pub modules: u32,
    pub firmware: Arc<dyn Firmware>,
}

impl std::fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("chip", &self.chip)
            .field("flash_size", &self.flash_size)
            .field("flash_id", &format_args!("{:#08x}", self.flash_id))
            .field("mac", &format_mac(self.mac))
            .field("save", &self.save)
            .field("faults", &self.faults)
            .field("modules", &self.modules)
            .finish_non_exhaustive()
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            chip: Chip::Esp8266,
            flash_size: 0x10_0000,
            flash_id: 0x14_40EF,
            mac: DEFAULT_MAC,
            image: None,
            save: None,
            timing: TimingModel::default(),
            faults: Vec::new(),
            no_sync: false,
            boot_mode: BootMode::Download,
            modules: 1,
            firmware: Arc::new(SilentFirmware),
        }
    }
}
