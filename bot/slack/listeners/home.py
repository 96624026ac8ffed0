"""App Home: the Home tab shows the person's State at a glance, its list paged by two buttons."""

from __future__ import annotations

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import ids
from bot.slack.blocks.home import home_view, overview_blocks
from bot.slack.blocks.replies import reply_blocks
from bot.slack.listeners.shared import Body, Deps, caller, guard
from bot.slack.payloads import Click
from bot.slack.texts import stranger_reply
from handlers.i18n import translator
from handlers.overview import overview_of


def register(app: AsyncApp, deps: Deps) -> None:
    app.event("app_home_opened")(guard(deps, on_home_opened))
    app.action(ids.HOME_PREVIOUS_ACTION)(guard(deps, on_home_page))
    app.action(ids.HOME_NEXT_ACTION)(guard(deps, on_home_page))


async def on_home_opened(deps: Deps, ack: AsyncAck, event: Body, client: AsyncWebClient) -> None:
    await ack()
    if event.get("tab") != "home" or not isinstance(event.get("user"), str):
        return
    await publish_home(deps, client, event["user"], page=0)


async def on_home_page(deps: Deps, ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
    await ack()
    click = Click.parse(body)
    page = int(click.value) if click.value.isdigit() else 0
    await publish_home(deps, client, click.user_id, page=page)


async def publish_home(deps: Deps, client: AsyncWebClient, user_id: str, *, page: int) -> None:
    found = await caller(deps, client, user_id)
    if found.speaker is None:
        blocks = reply_blocks(stranger_reply(translator(found.language)))
    else:
        async with deps.store.transaction() as session:
            overview = await overview_of(session, found.speaker, deps.clock.now(), deps.policy)
        blocks = overview_blocks(found.speaker.t, overview, page=page, pager=True)
    await client.views_publish(user_id=user_id, view=home_view(blocks))
