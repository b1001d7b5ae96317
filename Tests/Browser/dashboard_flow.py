"""The dashboard's core flow in headless Chromium, checked against the live API.

sign up -> create a client key -> read its secret from the page -> GET /v1/jobs with it (200)
-> the call shows in the usage chart -> regenerate -> revoke -> the key is refused (401).
Also: the copy button appears (JavaScript on), the page fits a phone-width screen, sign out.
Usage: dashboard_flow.py BASE_URL SCREENSHOT_DIR
"""
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

BASE, SHOTS = sys.argv[1], sys.argv[2]
os.makedirs(SHOTS, exist_ok=True)
step = 0


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def api(path, key):
    request = urllib.request.Request(BASE + path, headers={"X-API-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def shot(driver, name):
    global step
    step += 1
    path = os.path.join(SHOTS, f"{step:02d}-{name}.png")
    # The whole page, not just the window.
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    data = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})["data"]
    with open(path, "wb") as file:
        file.write(base64.b64decode(data))
    print(f"    screenshot {path}")


def submit(driver, button_id):
    driver.find_element(By.ID, button_id).click()
    time.sleep(0.05)


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1200,900"):
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.implicitly_wait(5)
try:
    # Sign up.
    driver.get(BASE + "/dashboard")
    check(driver.current_url.endswith("/dashboard/sign-in"), "signed-out visitors go to sign in")
    driver.find_element(By.LINK_TEXT, "Create an account").click()
    shot(driver, "sign-up")
    driver.find_element(By.ID, "email").send_keys("browser@example.com")
    driver.find_element(By.ID, "password").send_keys("short")
    submit(driver, "sign-up")
    check("Use at least 12 characters" in driver.find_element(By.ID, "password-error").text, "short password refused at the field")
    shot(driver, "sign-up-error")
    driver.find_element(By.ID, "password").send_keys("a long enough passphrase")
    submit(driver, "sign-up")
    check(driver.find_element(By.TAG_NAME, "h1").text == "Your account is ready", "account created")
    master = driver.find_element(By.ID, "secret").get_attribute("value")
    check(master.startswith("aitbc_master_"), "master key shown once")
    check(driver.find_element(By.CSS_SELECTOR, "button.copy").is_displayed(), "copy button shown when JavaScript runs")
    shot(driver, "account-ready")
    driver.find_element(By.ID, "continue").click()

    # Create a client key and read its secret from the page.
    check(driver.find_element(By.TAG_NAME, "h1").text == "API keys", "API keys page")
    driver.find_element(By.ID, "name").send_keys("browser test client")
    Select(driver.find_element(By.ID, "role")).select_by_value("client")
    Select(driver.find_element(By.ID, "expires_in_days")).select_by_value("30")
    shot(driver, "api-keys")
    submit(driver, "create-key")
    secret = driver.find_element(By.ID, "secret").get_attribute("value")
    check(secret.startswith("aitbc_client_"), "client secret shown")
    shot(driver, "key-created")

    # Call the API with it.
    status, body = api("/v1/jobs", secret)
    check(status == 200, f"GET /v1/jobs with the new key: {status} {body}")
    print("    GET /v1/jobs with the key from the page: 200")

    # See the call in the usage chart (and as the key's last use in the list).
    driver.find_element(By.ID, "continue").click()
    row = driver.find_element(By.CSS_SELECTOR, "tr[data-status='active'] td[data-label='Last used']")
    check(row.text != "Never", "the call shows as the key's last use")
    driver.find_element(By.LINK_TEXT, "browser test client").click()
    check(driver.find_element(By.ID, "total-admitted").text == "1", "the call is counted on the key's page")
    bars = driver.find_elements(By.CSS_SELECTOR, "svg.chart rect[data-kind='admitted']")
    check(len(bars) == 1 and bars[0].get_attribute("data-count") == "1", "the call is drawn in the chart")
    check(bars[0].size["height"] > 0, "the bar is visible")
    shot(driver, "key-usage")
    driver.find_element(By.LINK_TEXT, "Usage").click()
    check(driver.find_element(By.ID, "total-admitted").text == "1", "the call is counted for the tenant")
    shot(driver, "usage")
    driver.back()

    # Regenerate: the old secret stops at once (no grace period), the new one works.
    Select(driver.find_element(By.ID, "grace_period_seconds")).select_by_value("0")
    submit(driver, "regenerate")
    renewed = driver.find_element(By.ID, "secret").get_attribute("value")
    check(renewed.startswith("aitbc_client_") and renewed != secret, "new secret shown")
    shot(driver, "regenerated")
    check(api("/v1/jobs", renewed)[0] == 200, "the new secret works")
    check(api("/v1/jobs", secret)[0] == 401, "the old secret is refused")

    # Revoke, with a confirmation page; the key is refused.
    driver.find_element(By.ID, "continue").click()
    driver.find_element(By.ID, "revoke").click()
    shot(driver, "revoke-confirm")
    submit(driver, "confirm-revoke")
    check("is revoked" in driver.find_element(By.ID, "notice").text, "revocation confirmed")
    shot(driver, "revoked")
    status, body = api("/v1/jobs", renewed)
    check(status == 401 and body["error"]["code"] == "API_KEY_REVOKED", f"revoked key refused: {status} {body}")
    print("    GET /v1/jobs with the revoked key: 401 API_KEY_REVOKED")

    # A phone-width screen: nothing wider than the screen.
    driver.set_window_size(390, 844)
    driver.get(BASE + "/dashboard/api-keys")
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    check(overflow <= 0, f"the keys page fits a phone-width screen (overflow {overflow}px)")
    shot(driver, "phone-api-keys")
    driver.get(BASE + "/dashboard/usage")
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    check(overflow <= 0, f"the usage page fits a phone-width screen (overflow {overflow}px)")
    shot(driver, "phone-usage")
    driver.set_window_size(1200, 900)

    # Sign out.
    driver.get(BASE + "/dashboard/api-keys")
    submit(driver, "sign-out")
    check("You are signed out." in driver.find_element(By.ID, "notice").text, "signed out")
    shot(driver, "signed-out")
    driver.get(BASE + "/dashboard/api-keys")
    check(driver.current_url.endswith("/dashboard/sign-in"), "signed out for good")

    # Sign in again (the password as the browser encodes it), then out of every session.
    driver.find_element(By.ID, "email").send_keys("Browser@Example.com")
    driver.find_element(By.ID, "password").send_keys("a long enough passphrase")
    shot(driver, "sign-in")
    submit(driver, "sign-in")
    check(driver.find_element(By.TAG_NAME, "h1").text == "API keys", "signed in again")
    driver.find_element(By.LINK_TEXT, "Usage").click()
    submit(driver, "sign-out-everywhere")
    driver.get(BASE + "/dashboard/usage")
    check(driver.current_url.endswith("/dashboard/sign-in"), "signed out everywhere")
finally:
    driver.quit()

# Without JavaScript: sign in, create a key, read its secret; the copy button stays hidden.
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.implicitly_wait(5)
driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
try:
    driver.get(BASE + "/dashboard/sign-in")
    driver.find_element(By.ID, "email").send_keys("browser@example.com")
    driver.find_element(By.ID, "password").send_keys("a long enough passphrase")
    submit(driver, "sign-in")
    driver.find_element(By.ID, "name").send_keys("made without javascript")
    Select(driver.find_element(By.ID, "role")).select_by_value("miner")
    submit(driver, "create-key")
    secret = driver.find_element(By.ID, "secret").get_attribute("value")
    check(secret.startswith("aitbc_miner_"), "a key is created without JavaScript")
    check(not driver.find_element(By.CSS_SELECTOR, "button.copy").is_displayed(), "no copy button without JavaScript")
    shot(driver, "no-javascript-key-created")
    status, body = api("/v1/me", secret)
    check(status == 200 and body["role"] == "miner", f"the key works: {status} {body}")
    print("    without JavaScript: signed in, created a miner key, /v1/me 200")
finally:
    driver.quit()
print("==> browser flow passed")
