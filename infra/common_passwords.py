"""Builds the common-password list shipped in the layer (keel/identity/common_passwords.txt).

The base words are the most frequent passwords of public breach corpora (the "top N" lists that
NIST SP 800-63B asks verifiers to check against); the variants add the suffixes people append.
`python -m infra.common_passwords` rewrites the file; it is committed, so the layer needs nothing.
"""

from __future__ import annotations

from pathlib import Path

LAYER = Path(__file__).resolve().parent.parent / "layers" / "keel"
OUT = LAYER / "keel" / "identity" / "common_passwords.txt"

BASE_TEXT = """
123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon 123123 baseball abc123
football monkey letmein 696969 shadow master 666666 qwertyuiop 123321 mustang 1234567890 michael
654321 superman 1qaz2wsx 7777777 121212 000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm
asdfgh hunter buster soccer harley batman andrew tigger sunshine iloveyou 2000 charlie robert thomas
hockey ranger daniel starwars klaster 112233 george computer michelle jessica pepper 1111 zxcvbn
555555 11111111 131313 freedom 777777 pass maggie 159753 aaaaaa ginger princess joshua cheese amanda
summer love ashley nicole chelsea biteme matthew access yankees 987654321 dallas austin thunder
taylor matrix william corvette hello martin heather secret merlin diamond 1234qwer gfhjkm hammer
silver 222222 88888888 anthony justin test bailey q1w2e3r4t5 patrick internet scooter orange 11111
golfer cookie richard samantha bigdog guitar jackson whatever mickey chicken sparky snoopy maverick
phoenix camaro peanut morgan welcome falcon cowboy ferrari samsung andrea smokey steelers joseph
mercedes dakota arsenal eagles melissa boomer booboo spider nascar monster tigers yellow xxxxxx
123123123 gateway marina diablo bulldog qwer1234 compaq purple hardcore banana junior hannah 123654
porsche lakers iceman money cowboys 987654 london tennis 999999 ncc1701 coffee scooby 0000 miller
boston q1w2e3r4 brandon yamaha chester mother forever johnny edward 333333 oliver redsox player
nikita knight fender barney midnight please brandy chicago badboy slayer rangers charles angel
flower bigdaddy rabbit wizard bigdick jasper enter rachel chris steven winner adidas victoria
natasha 1q2w3e4r jasmine winter prince panties marine ghbdtn fishing cocacola casper james 232323
raiders 888888 marlboro gandalf asdfasdf crystal 87654321 12344321 golf 8675309 paradise sexy
zaq12wsx hunter2 admin administrator root toor changeme default guest login passw0rd password1
password12 password123 p@ssw0rd p@ssword pa55word qwerty123 qwerty1 iloveyou1 abc12345 abcd1234
letmein1 welcome1 welcome123 admin123 admin1234 root123 test123 test1234 user user123 demo demo123
temp temp123 secret123 master123 football1 baseball1 monkey123 dragon123 sunshine1 princess1
shadow123 superman1 batman123 trustno1! azerty azertyuiop qwertz 1q2w3e 1q2w3e4r5t 1qaz2wsx3edc
zaq1zaq1 asdf1234 asdfghjkl zxcvbnm123 qazwsxedc 147258369 159357 741852963 963852741 11223344
1122334455 121314 123abc 123qweasd 1a2b3c 1a2b3c4d a1b2c3 a1b2c3d4 aa123456 abc123456 qwe123 qweasd
qweasdzxc asd123 zxc123 password! password1! letmein! iloveu lovely loveme love123 baby babygirl
angel1 princess123 sweet sweetheart honey cutie pretty beautiful hello123 hellokitty kitty pussy cat
doggy puppy tiger lion eagle wolf bear shark dolphin horse pokemon pikachu naruto minecraft fortnite
roblox nintendo playstation xbox360 gaming gamer warcraft starcraft blizzard destiny zelda mario
sonic spiderman ironman hulk thor avengers marvel joker harrypotter hogwarts gryffindor frodo
matrix1 neo trinity morpheus skywalker jedi yoda vader chewbacca startrek spock enterprise liverpool
manchester chelseafc barcelona realmadrid juventus milan inter bayern ronaldo messi beckham jordan23
kobe24 lebron23 michael23 yankees1 redskins packers broncos patriots giants jets dolphins vikings
bears lions saints falcons ravens chargers seahawks texans titans colts jaguars bengals browns
raiders1 chiefs rams niners 49ers hockey1 soccer1 basketball tennis1 golf123 running swimming
cycling fitness yoga music guitar1 piano drums rockstar rocknroll metallica nirvana beatles eminem
tupac 50cent snoopdogg rihanna beyonce madonna justinbieber onedirection taylorswift summer1 winter1
spring autumn monday friday sunday january february march april may june july august september
october november december qwerty12 qwerty1234 1qazxsw2 xsw21qaz !qaz2wsx changeme1 changeme123
newpassword mypassword yourpassword ourpassword thepassword passpass passwd pass1234 pass123
password0 password01 password2 password3 password7 password8 password9 passw0rd1 letmein123 trustme
nopassword nothing blank empty null undefined unknown security secure access14 private public office
work company business manager pharmacy doctor nurse hospital clinic dental dentist health medical
patient system network server database oracle mysql postgres linux windows apple iphone android
google facebook twitter instagram youtube amazon microsoft netflix spotify yahoo hotmail gmail
outlook skype zoom slack github gitlab docker kubernetes jenkins ubuntu debian redhat centos fedora
freebsd unix solaris cisco juniper fortinet paloalto vmware citrix 1234554321 12341234 123123a
123456a 123456q 123456z 12345a 12345q 12345z a123456 a12345 q123456 z123456 qq123456 woaini 5201314
woaini1314 iloveyou2 iloveyou! ilovegod jesus jesus1 christ god blessed faith grace hope heaven
angels trinity1 holy bible church amen saved praise family friends friend forever1 together always
never lucky lucky7 lucky13 happy happy1 smile sunflower rainbow butterfly flowers rose lily daisy
tulip orchid jasmine1 cherry strawberry apple1 orange1 banana1 lemon mango peach grape pineapple
watermelon coconut chocolate candy cookie1 cupcake pizza burger hotdog bacon cheese1 pepper1 salt
sugar coffee1 tea beer vodka whiskey tequila wine party partytime fuckyou fuckoff asshole bitch shit
dick cunt bastard motherfucker whore slut sexy1 hottie hotstuff stud lover sexsex porn xxx 696969a
69696969
"""
BASE = BASE_TEXT.split()

SUFFIXES = [
    "",
    "1",
    "12",
    "123",
    "1234",
    "12345",
    "!",
    "1!",
    "01",
    "007",
    "69",
    "99",
    "00",
    "2020",
    "2021",
    "2022",
    "2023",
    "2024",
    "2025",
    "2026",
    "@123",
    "#1",
]


def build() -> list[str]:
    words: set[str] = set()
    for base in dict.fromkeys(BASE):
        for suffix in SUFFIXES:
            for form in (base, base.capitalize()):
                words.add((form + suffix).lower())
    # keyboard walks and repeats
    for ch in "abcdefghijklmnopqrstuvwxyz0123456789":
        for n in range(6, 13):
            words.add(ch * n)
    for n in range(6, 13):
        words.add("1234567890"[:n] if n <= 10 else "1234567890" + "12"[: n - 10])
    return sorted(w for w in words if len(w) >= 4)


def main() -> int:
    words = build()
    OUT.write_text("\n".join(words) + "\n")
    print(f"wrote {len(words)} passwords")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
