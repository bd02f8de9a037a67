// Entry points of the espmqtt firmware (app.cpp), called from espmqtt.ino.

#ifndef ESPMQTT_APP_H
#define ESPMQTT_APP_H

void app_setup();
void app_loop();

#endif  // ESPMQTT_APP_H
