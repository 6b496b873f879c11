"""Identity helpers: credit codes (GB 32100-2015 / GB 11714), cities, firm names, contacts.

All randomness comes from the ``random.Random`` passed in, so output is reproducible.
"""

from __future__ import annotations

import random

# ---------------------------------------------------------------- credit codes
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_value(ch: str) -> int:
    if ch.isdigit():
        return int(ch)
    return ord(ch) - ord("A") + 10  # GB 11714: A=10 ... Z=35


def org_check_char(body8: str) -> str:
    """Check character of a 9-character organisation code (GB 11714-1997)."""
    total = sum(_org_value(c) * w for c, w in zip(body8, ORG_WEIGHTS, strict=True))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def uscc_check_char(first17: str) -> str:
    """Check character of an 18-character unified social credit code (GB 32100-2015)."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_is_valid(code: str) -> bool:
    """True when ``code`` is 18 characters from the USCC alphabet with a correct check digit."""
    if len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def org_code_is_valid(code9: str) -> bool:
    return len(code9) == 9 and org_check_char(code9[:8]) == code9[8]


def make_uscc(rng: random.Random, division: str, founded: int, used: set[str]) -> str:
    """A fresh, valid code: 9 (AIC) + 1 (enterprise) + division + org code + check."""
    letters = [c for c in USCC_ALPHABET if c.isalpha()]
    while True:
        if founded >= 2016:  # codes issued after the reform: MA + 6 characters
            body = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
        elif rng.random() < 0.15:
            body = rng.choice(letters) + "".join(rng.choice("0123456789") for _ in range(7))
        else:
            body = "".join(rng.choice("0123456789") for _ in range(8))
        org = body + org_check_char(body)
        if any(c not in USCC_ALPHABET for c in org):
            continue
        first17 = "91" + division + org
        code = first17 + uscc_check_char(first17)
        if code not in used:
            used.add(code)
            return code


# ---------------------------------------------------------------- cities
# city (zh) -> (English name, [administrative division codes of the city or its districts])
CITIES: dict[str, tuple[str, list[str]]] = {
    "晋江市": ("Jinjiang", ["350582"]),
    "泉州市": (
        "Quanzhou",
        ["350500", "350502", "350503", "350504", "350505", "350521", "350581", "350583"],
    ),
    "厦门市": ("Xiamen", ["350200", "350203", "350205", "350206", "350211", "350213"]),
    "福州市": ("Fuzhou", ["350100", "350102", "350104", "350105", "350111", "350112"]),
    "莆田市": ("Putian", ["350300", "350302", "350303"]),
    "漳州市": ("Zhangzhou", ["350600", "350602", "350603"]),
    "深圳市": ("Shenzhen", ["440300", "440304", "440305", "440306", "440307", "440309"]),
    "广州市": ("Guangzhou", ["440100", "440106", "440112"]),
    "东莞市": ("Dongguan", ["441900"]),
    "佛山市": ("Foshan", ["440600", "440605", "440606"]),
    "上海市": ("Shanghai", ["310104", "310112", "310114", "310115", "310117"]),
    "苏州市": ("Suzhou", ["320500", "320505", "320506", "320507", "320509", "320583"]),
    "无锡市": ("Wuxi", ["320200", "320214"]),
    "常州市": ("Changzhou", ["320400", "320411"]),
    "南京市": ("Nanjing", ["320100", "320106", "320115"]),
    "杭州市": ("Hangzhou", ["330100", "330106", "330108", "330110"]),
    "宁波市": ("Ningbo", ["330200", "330212"]),
    "绍兴市": ("Shaoxing", ["330600", "330602", "330603"]),
    "北京市": ("Beijing", ["110105", "110108", "110114", "110115"]),
    "天津市": ("Tianjin", ["120116"]),
    "成都市": ("Chengdu", ["510100", "510107", "510116"]),
    "绵阳市": ("Mianyang", ["510700", "510703"]),
    "武汉市": ("Wuhan", ["420100", "420111", "420115"]),
    "合肥市": ("Hefei", ["340100", "340104", "340111"]),
    "西安市": ("Xi'an", ["610100", "610113", "610116"]),
    "长沙市": ("Changsha", ["430100", "430104"]),
    "重庆市": ("Chongqing", ["500112"]),
    "青岛市": ("Qingdao", ["370212"]),
    "济南市": ("Jinan", ["370112"]),
    "兰州市": ("Lanzhou", ["620102"]),
    "温州市": ("Wenzhou", ["330300", "330302"]),
    "宁德市": ("Ningde", ["350900", "350902"]),
    "赣州市": ("Ganzhou", ["360700", "360702"]),
    "沈阳市": ("Shenyang", ["210100", "210112"]),
    "景德镇市": ("Jingdezhen", ["360200", "360203"]),
    "石狮市": ("Shishi", ["350581"]),
    "珠海市": ("Zhuhai", ["440400", "440402"]),
    "大连市": ("Dalian", ["210200", "210211"]),
    "烟台市": ("Yantai", ["370600", "370602"]),
    "郑州市": ("Zhengzhou", ["410100", "410105"]),
    "淄博市": ("Zibo", ["370300", "370303"]),
}
LOCAL = ("晋江市", "泉州市")
GENERAL_POOL = [
    "厦门市",
    "厦门市",
    "福州市",
    "福州市",
    "深圳市",
    "深圳市",
    "深圳市",
    "上海市",
    "上海市",
    "苏州市",
    "苏州市",
    "杭州市",
    "杭州市",
    "北京市",
    "北京市",
    "成都市",
    "武汉市",
    "合肥市",
    "西安市",
    "广州市",
    "南京市",
    "宁波市",
    "长沙市",
    "东莞市",
    "无锡市",
    "莆田市",
    "漳州市",
    "天津市",
    "重庆市",
    "青岛市",
    "常州市",
]
# Traditional-script firms located in Taiwan / Hong Kong: no mainland credit code.
TW_HK = ["台北市", "新竹市", "台中市", "高雄市", "香港"]
PROVINCE = {
    "晋江市": "福建",
    "泉州市": "福建",
    "厦门市": "福建",
    "福州市": "福建",
    "莆田市": "福建",
    "漳州市": "福建",
    "深圳市": "广东",
    "广州市": "广东",
    "东莞市": "广东",
    "佛山市": "广东",
    "上海市": "上海",
    "苏州市": "江苏",
    "无锡市": "江苏",
    "常州市": "江苏",
    "南京市": "江苏",
    "杭州市": "浙江",
    "宁波市": "浙江",
    "绍兴市": "浙江",
    "温州市": "浙江",
    "北京市": "北京",
    "天津市": "天津",
    "成都市": "四川",
    "绵阳市": "四川",
    "武汉市": "湖北",
    "合肥市": "安徽",
    "西安市": "陕西",
    "长沙市": "湖南",
    "重庆市": "重庆",
    "青岛市": "山东",
    "济南市": "山东",
    "兰州市": "甘肃",
    "宁德市": "福建",
    "赣州市": "江西",
    "沈阳市": "辽宁",
    "景德镇市": "江西",
    "石狮市": "福建",
    "珠海市": "广东",
    "大连市": "辽宁",
    "烟台市": "山东",
    "郑州市": "河南",
    "淄博市": "山东",
}

# ---------------------------------------------------------------- names
# Characters for trade names (字号). Chosen so that no pair spells a scenario keyword.
ZIHAO_CHARS = (
    "恒信达鑫源瑞博创联泰宏晟锐凯睿德正远航优卓越普莱嘉华盛丰兴隆顺骏锦弘启明昊辰煜钧澜汇拓捷"
    "诺迈腾峰坤乾易森禾朗逸尚晨星川岳峻泓铭澳亿纳维舜奕翔安璟琪祥裕鸿"
)
# Real brand names and awkward pairs to avoid.
ZIHAO_AVOID = {
    "安达",
    "恒安",
    "星星",
    "明明",
    "华盛",
    "达达",
    "优优",
    "正泰",
    "德恒",
    "信达",
    "华泰",
    "安恒",
    "恒逸",
    "华峰",
    "汇川",
    "鸿星",
    "锐捷",
    "腾达",
    "恒瑞",
    "鸿博",
    "华兴",
    "星源",
    "捷顺",
    "达安",
    "顺丰",
    "泰禾",
    "恒顺",
    "捷安",
    "迈瑞",
    "瑞华",
    "普华",
    "睿远",
    "启明",
    "达晨",
    "晨兴",
    "泰达",
    "华安",
    "华信",
    "安信",
    "信安",
    "恒生",
    "兴业",
    "华润",
    "嘉华",
    "华纳",
    "博世",
    "纳思",
    "凯德",
    "嘉德",
    "汇丰",
    "恒隆",
    "新华",
}


def make_zihao(rng: random.Random, used: set[str]) -> str:
    while True:
        a, b = rng.sample(ZIHAO_CHARS, 2)
        z = a + b
        if z not in used and z not in ZIHAO_AVOID:
            used.add(z)
            return z


EN_BRAND_A = [
    "Bright",
    "Nova",
    "Blue",
    "Green",
    "Apex",
    "Delta",
    "Orient",
    "Silver",
    "Pacific",
    "Summit",
    "Clear",
    "True",
    "Ever",
    "Prime",
    "Star",
    "Vast",
    "Aurora",
    "Lumen",
    "Terra",
    "Vita",
    "Stellar",
    "Harbor",
    "Cedar",
    "Crest",
    "Pioneer",
    "Jade",
    "Coral",
    "Maple",
    "Polar",
    "Sun",
]
EN_BRAND_B = [
    "wave",
    "tek",
    "line",
    "core",
    "path",
    "gate",
    "bridge",
    "field",
    "stone",
    "sky",
    "point",
    "vista",
    "rise",
    "peak",
    "way",
    "view",
    "light",
    "leaf",
    "port",
    "well",
]


def make_en_brand(rng: random.Random, used: set[str]) -> str:
    while True:
        b = rng.choice(EN_BRAND_A) + rng.choice(EN_BRAND_B)
        if b not in used:
            used.add(b)
            return b


# ---------------------------------------------------------------- people
SURNAMES = "陈林黄吴许蔡施洪王李张刘杨郑苏庄丁曾周谢柯尤傅邱何罗高叶徐朱郭肖姚方彭詹颜"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "强",
    "磊",
    "洋",
    "艳",
    "勇",
    "军",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "志强",
    "建华",
    "晓东",
    "丽华",
    "文斌",
    "海峰",
    "雅婷",
    "俊杰",
    "思远",
    "佳怡",
    "子轩",
    "雨涵",
    "国平",
    "少华",
    "金水",
    "清河",
    "育才",
    "毅",
    "婷",
    "斌",
    "鹏",
    "琳",
    "翔",
]
EN_FIRST = [
    "Anna",
    "Lars",
    "Erik",
    "Sofia",
    "Markus",
    "Julia",
    "David",
    "Emma",
    "Thomas",
    "Laura",
    "Daniel",
    "Sarah",
    "Pieter",
    "Marco",
    "Giulia",
    "Kenji",
    "Yuki",
    "Oliver",
    "Priya",
    "Liam",
]
EN_LAST = [
    "Schmidt",
    "Andersson",
    "Lindqvist",
    "Weber",
    "Rossi",
    "Bianchi",
    "Jansen",
    "Smith",
    "Taylor",
    "Nakamura",
    "Tanaka",
    "Becker",
    "Nilsson",
    "Moretti",
    "de Vries",
    "Brown",
]


def zh_person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def en_person(rng: random.Random) -> tuple[str, str]:
    first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
    return f"{first} {last}", f"{first}.{last}".lower().replace(" ", "")
