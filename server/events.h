/* events.h: the effects of a change, gathered while its storage job runs and applied on
 * the loop once it has committed: messages to an article's readers, to an author's
 * connections, to every moderator console, in this process and (through the bus) in
 * every other. comments and moderation both raise them; neither calls the other for it.
 * The effects array is owned by the job; each adder steals msg. */
#ifndef PARLEY_EVENTS_H
#define PARLEY_EVENTS_H

#include <jansson.h>

void effect_article(json_t *effects, const char *article, json_t *msg);
void effect_author(json_t *effects, const char *author, json_t *msg);
void effect_consoles(json_t *effects, json_t *msg);
/* Sends every effect (loop thread, after the commit). */
void effects_apply(json_t *effects);

#endif
