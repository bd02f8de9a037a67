// Build information. `espmqtt build` overwrites this file in its build
// directory with the values of the build (templates/build_info.h.j2); this
// copy lets the template folder compile as is in the Arduino IDE.

#ifndef ESPMQTT_BUILD_INFO_H
#define ESPMQTT_BUILD_INFO_H

#define ESPMQTT_FW_VERSION "dev"
#define ESPMQTT_BOARD "generic"

#endif  // ESPMQTT_BUILD_INFO_H
