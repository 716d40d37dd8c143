"""Word lists and fixed casts: everything invented that the generator draws from.

Per language (``LANGS``): words with Zipf order, first names and surnames,
hashtags, fan chants, cities, a news domain, UTC offsets and the share of the
organic crowd; then endings, emoji, the diurnal activity profile and the X
clients. Then the fixed casts: the genuine watchlist entities, their
impersonators and look-alike domains, the operation's message sets, the run
text, month names, homoglyphs, the crew's names and bios, and the amplifier's
handle words. Data only: no randomness, no imports from the other modules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class _Lang:
    words: tuple[str, ...]  # commonest first: drawn with Zipf weights
    names: tuple[tuple[str, str], ...]  # (latin for handles, native for display names)
    surnames: tuple[tuple[str, str], ...]
    hashtags: tuple[str, ...]
    fan_words: tuple[str, ...]
    cities: tuple[str, ...]
    news_domain: str
    utc_offsets: tuple[tuple[float, float], ...]  # (offset hours, share)
    share: float  # share of organic accounts


def _w(s: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in s.split("|") if x.strip())


def _pairs(s: str) -> tuple[tuple[str, str], ...]:
    return tuple(tuple(p.split("=")) for p in _w(s))  # type: ignore[misc]


LANGS: dict[str, _Lang] = {
    "en": _Lang(
        _w(
            "the|a|and|to|is|my|this|of|in|for|with|on|our|that|today|really|new|so|just|again|week|day|"
            "morning|coffee|weather|city|friends|music|book|reading|walk|park|train|late|think|love|weekend|"
            "work|meeting|finally|dinner|recipe|garden|rain|sunny|cold|street|market|movie|series|episode|"
            "watching|learning|project|ideas|team|photo|beautiful|quiet|busy|tired|happy|great|small|big|"
            "night|evening|home|family|kids|school|teacher|concert|tickets|bus|traffic|bike|gym|tea|bread|"
            "cake|soup|apples|news|story|question|answer|maybe|always|never|sometimes|because|neighbours|"
            "library|river|bridge|autumn|holiday|podcast|guitar|painting|museum|breakfast|lunch|office"
        ),
        _pairs(
            "james=James|emma=Emma|oliver=Oliver|sophia=Sophia|liam=Liam|grace=Grace|noah=Noah|"
            "chloe=Chloe|jack=Jack|ella=Ella|harry=Harry|amelia=Amelia|leo=Leo|ruby=Ruby|sam=Sam|lucy=Lucy"
        ),
        _pairs(
            "smith=Smith|jones=Jones|taylor=Taylor|brown=Brown|walker=Walker|wright=Wright|green=Green|"
            "hall=Hall|wood=Wood|clarke=Clarke"
        ),
        _w("MondayMotivation|coffee|books|music|photography|weekend|travel|football|gardening|cooking"),
        _w(
            "what a goal|unbelievable|come on|referee|penalty|what a save|extra time|half time|"
            "best final ever|my heart|the stadium is loud|keeper|legend|we believe|corner|offside"
        ),
        _w("London|Manchester|New York|Toronto|Leeds|Bristol|Seattle"),
        "dailyharbour.co.uk",
        ((-5.0, 0.35), (0.0, 0.45), (-8.0, 0.20)),
        0.30,
    ),
    "ru": _Lang(
        _w(
            "и|в|на|не|я|что|это|с|очень|уже|ещё|мой|наш|сегодня|утро|кофе|погода|город|друзья|музыка|"
            "книга|читаю|гулять|парк|поезд|поздно|снова|правда|думаю|люблю|новый|неделя|выходные|работа|"
            "встреча|наконец|ужин|рецепт|сад|дождь|солнечно|холодно|улица|рынок|фильм|сериал|смотрю|учу|"
            "проект|идеи|команда|фото|красиво|тихо|занят|устал|рад|отлично|маленький|большой|день|ночь|"
            "вечер|дом|семья|дети|школа|концерт|билеты|автобус|пробки|велосипед|чай|хлеб|торт|суп|яблоки|"
            "новости|история|вопрос|ответ|может|всегда|никогда|иногда|потому|соседи|библиотека|река|осень|"
            "отпуск|подкаст|гитара|музей|завтрак|обед|офис"
        ),
        _pairs(
            "aleksei=Алексей|olga=Ольга|dmitry=Дмитрий|natalia=Наталья|sergei=Сергей|irina=Ирина|"
            "pavel=Павел|elena=Елена|ivan=Иван|marina=Марина|andrei=Андрей|tatiana=Татьяна|"
            "nikita=Никита|anna=Анна|maxim=Максим|yulia=Юлия"
        ),
        _pairs(
            "ivanov=Иванов|petrov=Петров|smirnov=Смирнов|volkov=Волков|sokolov=Соколов|popov=Попов|"
            "lebedev=Лебедев|kozlov=Козлов|novikov=Новиков|morozov=Морозов"
        ),
        _w("погода|книги|музыка|выходные|кофе|фото|футбол|осень|кино|рецепты"),
        _w(
            "гол|какой матч|невероятно|судья|пенальти|вратарь|давай|финал|мурашки|овертайм|"
            "лучший финал|стадион ревёт|легенда|угловой|офсайд"
        ),
        _w("Москва|Санкт-Петербург|Казань|Новосибирск|Екатеринбург|Самара"),
        "gorodnovosti.ru",
        ((3.0, 0.8), (5.0, 0.1), (7.0, 0.1)),
        0.18,
    ),
    "fa": _Lang(
        _w(
            "و|در|به|از|این|که|با|را|من|ما|خیلی|امروز|صبح|قهوه|هوا|شهر|دوستان|موسیقی|کتاب|خواندن|"
            "پیاده‌روی|پارک|قطار|دیر|دوباره|واقعا|فکر|دوست|جدید|هفته|آخرهفته|کار|جلسه|بالاخره|شام|"
            "دستور|باغ|باران|آفتابی|سرد|خیابان|بازار|فیلم|سریال|تماشا|یادگیری|پروژه|ایده|تیم|عکس|زیبا|"
            "آرام|شلوغ|خسته|خوشحال|عالی|کوچک|بزرگ|روز|شب|عصر|خانه|خانواده|بچه‌ها|مدرسه|کنسرت|بلیط|"
            "اتوبوس|ترافیک|دوچرخه|چای|نان|کیک|سوپ|سیب|خبر|داستان|سوال|جواب|شاید|همیشه|هرگز|گاهی|"
            "چون|همسایه|کتابخانه|رودخانه|پاییز|تعطیلات|پادکست|گیتار|موزه|صبحانه|ناهار|دفتر"
        ),
        _pairs(
            "ali=علی|maryam=مریم|reza=رضا|zahra=زهرا|hossein=حسین|fatemeh=فاطمه|mehdi=مهدی|"
            "sara=سارا|amir=امیر|narges=نرگس|saeed=سعید|leila=لیلا"
        ),
        _pairs(
            "ahmadi=احمدی|hosseini=حسینی|karimi=کریمی|rezaei=رضایی|moradi=مرادی|mousavi=موسوی|"
            "jafari=جعفری|sadeghi=صادقی"
        ),
        _w("تهران|کتاب|موسیقی|عکاسی|آشپزی|سفر|فوتبال|هنر|پاییز|سینما"),
        _w("گل|چه بازی|باورنکردنی|داور|پنالتی|دروازه‌بان|فینال|وقت اضافه|بهترین فینال|ورزشگاه|اسطوره|کرنر|آفساید|قلبم"),
        _w("تهران|اصفهان|شیراز|تبریز|مشهد"),
        "khabarnameh.ir",
        ((3.5, 1.0),),
        0.10,
    ),
    "az": _Lang(
        _w(
            "və|bu|bir|çox|üçün|ilə|mən|biz|da|də|artıq|bu gün|səhər|qəhvə|hava|şəhər|dostlar|musiqi|"
            "kitab|oxuyuram|gəzinti|park|qatar|gec|yenə|həqiqətən|düşünürəm|sevirəm|yeni|həftə|həftəsonu|"
            "iş|görüş|nəhayət|şam yeməyi|resept|bağ|yağış|günəşli|soyuq|küçə|bazar|film|serial|baxıram|"
            "öyrənirəm|layihə|fikirlər|komanda|şəkil|gözəl|sakit|məşğul|yorğun|xoşbəxt|əla|kiçik|böyük|"
            "gün|gecə|axşam|ev|ailə|uşaqlar|məktəb|konsert|bilet|avtobus|tıxac|velosiped|çay|çörək|tort|"
            "şorba|alma|xəbər|hekayə|sual|cavab|bəlkə|həmişə|heç vaxt|bəzən|çünki|qonşular|kitabxana|"
            "çay sahili|payız|tətil|podkast|gitara|muzey|səhər yeməyi|nahar|ofis"
        ),
        _pairs(
            "elvin=Elvin|aysel=Aysel|rashad=Rəşad|gunel=Günel|tural=Tural|nigar=Nigar|orkhan=Orxan|"
            "leyla=Leyla|farid=Fərid|sevinj=Sevinc|kamran=Kamran|aynur=Aynur|murad=Murad|ulviyya=Ülviyyə"
        ),
        _pairs(
            "mammadli=Məmmədli|aliyeva=Əliyeva|hasanli=Həsənli|huseynli=Hüseynli|guliyev=Quliyev|"
            "ismayilli=İsmayıllı|jafarli=Cəfərli|babayev=Babayev"
        ),
        _w("Bakı|musiqi|kitab|futbol|səyahət|təbiət|qəhvə|payız|kino|resept"),
        _w(
            "qol|nə oyundur|inanılmaz|hakim|penalti|qapıçı|final|əlavə vaxt|ən yaxşı final|stadion|"
            "əfsanə|künc zərbəsi|ofsayd|ürəyim"
        ),
        _w("Bakı|Gəncə|Sumqayıt|Lənkəran|Şəki|Quba"),
        "xeberler-baki.az",
        ((4.0, 1.0),),
        0.12,
    ),
    "fr": _Lang(
        _w(
            "le|la|et|de|à|les|un|une|pour|avec|mon|notre|ce|très|déjà|aujourd'hui|matin|café|météo|"
            "ville|amis|musique|livre|lecture|promenade|parc|train|tard|encore|vraiment|pense|adore|nouveau|"
            "semaine|week-end|travail|réunion|enfin|dîner|recette|jardin|pluie|ensoleillé|froid|rue|marché|"
            "film|série|regarde|apprends|projet|idées|équipe|photo|magnifique|calme|occupé|fatigué|content|"
            "génial|petit|grand|jour|nuit|soir|maison|famille|enfants|école|concert|billets|bus|"
            "embouteillages|vélo|thé|pain|gâteau|soupe|pommes|nouvelles|histoire|question|réponse|peut-être|"
            "toujours|jamais|parfois|voisins|bibliothèque|rivière|automne|vacances|podcast|guitare|musée|"
            "petit-déjeuner|déjeuner|bureau"
        ),
        _pairs(
            "camille=Camille|louis=Louis|chloe=Chloé|hugo=Hugo|lea=Léa|jules=Jules|manon=Manon|"
            "arthur=Arthur|ines=Inès|theo=Théo|sarah=Sarah|lucas=Lucas"
        ),
        _pairs(
            "martin=Martin|bernard=Bernard|dubois=Dubois|durand=Durand|lefebvre=Lefèbvre|moreau=Moreau|"
            "laurent=Laurent|girard=Girard"
        ),
        _w("Paris|lecture|musique|cuisine|photo|weekend|voyage|foot|automne|cinéma"),
        _w(
            "quel but|incroyable|arbitre|penalty|gardien|allez|finale|prolongations|frissons|"
            "meilleure finale|le stade chante|légende|corner|hors-jeu"
        ),
        _w("Paris|Lyon|Marseille|Lille|Montréal|Bordeaux"),
        "journal-du-nord.fr",
        ((1.0, 0.9), (-5.0, 0.1)),
        0.10,
    ),
    "tr": _Lang(
        _w(
            "ve|bu|bir|çok|için|ile|ben|biz|de|da|artık|bugün|sabah|kahve|hava|şehir|arkadaşlar|müzik|"
            "kitap|okuyorum|yürüyüş|park|tren|geç|yine|gerçekten|düşünüyorum|seviyorum|yeni|hafta|"
            "hafta sonu|iş|toplantı|sonunda|akşam yemeği|tarif|bahçe|yağmur|güneşli|soğuk|sokak|pazar|film|"
            "dizi|izliyorum|öğreniyorum|proje|fikirler|ekip|fotoğraf|güzel|sakin|meşgul|yorgun|mutlu|harika|"
            "küçük|büyük|gün|gece|akşam|ev|aile|çocuklar|okul|konser|bilet|otobüs|trafik|bisiklet|çay|"
            "ekmek|pasta|çorba|elma|haber|hikaye|soru|cevap|belki|her zaman|asla|bazen|çünkü|komşular|"
            "kütüphane|nehir|sonbahar|tatil|podcast|gitar|müze|kahvaltı|öğle yemeği|ofis"
        ),
        _pairs(
            "emre=Emre|zeynep=Zeynep|burak=Burak|elif=Elif|mert=Mert|ayse=Ayşe|can=Can|selin=Selin|"
            "ozan=Ozan|defne=Defne|kerem=Kerem|buse=Buse"
        ),
        _pairs("yilmaz=Yılmaz|kaya=Kaya|demir=Demir|sahin=Şahin|celik=Çelik|yildiz=Yıldız|aydin=Aydın|ozturk=Öztürk"),
        _w("İstanbul|kitap|müzik|futbol|kahve|seyahat|fotoğraf|hafta_sonu|sonbahar|sinema"),
        _w(
            "gol|ne maç|inanılmaz|hakem|penaltı|kaleci|final|uzatma|tüylerim diken diken|en iyi final|"
            "stat yıkılıyor|efsane|korner|ofsayt"
        ),
        _w("İstanbul|Ankara|İzmir|Bursa|Antalya|Eskişehir"),
        "gunluk-haber.com.tr",
        ((3.0, 1.0),),
        0.12,
    ),
    "ar": _Lang(
        _w(
            "و|في|على|من|إلى|مع|هذا|جدا|أنا|نحن|اليوم|صباح|قهوة|الطقس|المدينة|أصدقاء|موسيقى|كتاب|"
            "قراءة|نزهة|حديقة|قطار|متأخر|مرة أخرى|حقا|أعتقد|أحب|جديد|أسبوع|عطلة|عمل|اجتماع|أخيرا|عشاء|"
            "وصفة|بستان|مطر|مشمس|بارد|شارع|سوق|فيلم|مسلسل|أشاهد|أتعلم|مشروع|أفكار|فريق|صورة|جميل|هادئ|"
            "مشغول|متعب|سعيد|رائع|صغير|كبير|يوم|ليل|مساء|بيت|عائلة|أطفال|مدرسة|حفلة|تذاكر|حافلة|زحام|"
            "دراجة|شاي|خبز|كعكة|شوربة|تفاح|أخبار|قصة|سؤال|جواب|ربما|دائما|أبدا|أحيانا|لأن|جيران|مكتبة|"
            "نهر|خريف|إجازة|بودكاست|غيتار|متحف|فطور|غداء|مكتب"
        ),
        _pairs(
            "omar=عمر|fatima=فاطمة|khaled=خالد|noor=نور|youssef=يوسف|huda=هدى|ahmed=أحمد|layla=ليلى|"
            "karim=كريم|salma=سلمى|tariq=طارق|rana=رنا"
        ),
        _pairs("haddad=حداد|mansour=منصور|saleh=صالح|nasser=ناصر|hamdan=حمدان|khalil=خليل|azzam=عزام|fares=فارس"),
        _w("القاهرة|كتب|موسيقى|كرة_القدم|سفر|قهوة|تصوير|طبخ|خريف|سينما"),
        _w(
            "هدف|يا لها من مباراة|لا يصدق|الحكم|ركلة جزاء|الحارس|النهائي|وقت إضافي|أفضل نهائي|"
            "الملعب يهتز|أسطورة|ركنية|تسلل|قلبي"
        ),
        _w("القاهرة|الرياض|عمّان|بيروت|الدوحة|تونس"),
        "akhbar-alyawm.net",
        ((3.0, 0.5), (2.0, 0.3), (4.0, 0.2)),
        0.08,
    ),
}

_SHARED_DOMAINS = ("youtube.com", "en.wikipedia.org", "medium.com", "open.spotify.com", "github.com")
_ENDINGS = ("", "", "", "", ".", ".", "!", "?", "...", " 🙂", " 😂", " ❤️", " 👍", " 🔥", " 🙏", " 😅", "!!")
_FAN_EMOJI = ("", "⚽", "⚽🔥", "😱", "🙌", "🏆", "💙", "😭", "👏👏", "🔥🔥🔥")
_EMOJI_ONLY = ("🔥", "😂😂", "❤️", "👏", "🙏", "😍", "💯", "🤔")
# Local-hour activity profile of ordinary users: quiet nights, a lunch bump, evening peak.
_DIURNAL = np.array(
    [
        1.0,
        0.6,
        0.35,
        0.2,
        0.15,
        0.2,
        0.45,
        0.9,
        1.3,
        1.4,
        1.4,
        1.5,
        1.8,
        1.6,
        1.4,
        1.4,
        1.5,
        1.8,
        2.3,
        2.8,
        3.2,
        3.3,
        2.8,
        1.8,
    ]
)
_CLIENTS = ("Twitter for Android", "Twitter for iPhone", "Twitter Web App", "Twitter for iPad")
_CLIENT_SHARES = (0.45, 0.33, 0.19, 0.03)

# Genuine entities on the watchlist (they post normally and must not be flagged).
_GENUINE = (
    # handle, display name, language, own domain, description, UTC offset
    ("ilkinrahimli", "Ilkin Rahimli", "az", "mintrans-demo.gov.az", "Nəqliyyat naziri | Minister of Transport", 4),
    ("caspiandaily", "Caspian Daily Herald", "en", "caspiandailyherald.az", "News from the Caspian region", 4),
    ("meridiannews", "Meridian News Network", "en", "meridiannewsnetwork.com", "Independent news, 24/7", 0),
    ("nordobservateur", "Le Nord Observateur", "fr", "nord-observateur.fr", "Quotidien régional", 1),
    ("anatoliasabah", "Anatolia Sabah", "tr", "anatoliasabah.com.tr", "Günün haberleri", 3),
)
# Impersonators: (handle, display name, index of the imitated entity in _GENUINE, trick).
_IMPERSONATORS = (
    ("ilkinrahimIi", "Ilkin Rahimli", 0, "homoglyph: capital I for l in the handle"),
    ("ilkinrahimli_official", "Ilkin Rahimli (Official)", 0, "added 'official'"),
    ("caspiandaily_news", "Caspian Daily Herald News", 1, "added 'news'"),
    ("caspiandai1y", "\u0421aspian Daily Herald", 1, "digit 1 for l; Cyrillic С in the name"),
    ("meridiannews24", "Meridian News Network", 2, "added digits"),
    ("rneridiannews", "Meridian News Netw\u043erk", 2, "'rn' for 'm'; Cyrillic о in the name"),
)
_FAKE_DOMAINS = ("caspiandaily-herald.info", "meridian-news-net.live", "gov-bulletin.site")
_NEWS_PREFIX = {"az": "SON DƏQİQƏ:", "en": "BREAKING:", "ru": "СРОЧНО:", "fr": "URGENT :", "tr": "SON DAKİKA:"}

# The operation's messages: (language, body, hashtags). {day} {month} take the election date.
_SET_BEFORE = (
    ("az", "Yaşıl Körpü layihəsi şəhərimizə yeni nəfəs gətirir", ("YaşılKörpü", "İrəli")),
    ("az", "Yeni körpü minlərlə insanın yolunu qısaldacaq", ("YaşılKörpü", "YeniYol")),
    ("az", "Gənclər üçün yeni iş yerləri yaradılır, bu gələcəyə investisiyadır", ("İrəli", "GələcəkBizimlə")),
    ("az", "Hər gün daha çox insan layihəni dəstəkləyir", ("YaşılKörpü", "GələcəkBizimlə")),
    ("ru", "Проект Зелёный мост меняет наш город к лучшему", ("YaşılKörpü", "ЗелёныйМост")),
    ("en", "The Green Bridge project is bringing the whole city together", ("GreenBridge", "YaşılKörpü")),
)
_SET_AFTER = (
    ("az", "{day} {month_az} hamı seçki məntəqəsinə! Səsin gələcəyi müəyyən edir", ("Seçki2024", "SəsVer")),
    ("az", "Seçkidə iştirak etmək hər birimizin borcudur", ("SəsVer", "GələcəkBizimlə")),
    ("az", "Sabitlik və inkişaf üçün {day} {month_az} səs ver", ("Seçki2024", "Sabitlik")),
    ("ru", "Голосуй {day} {month_ru} за будущее нашего города", ("Выборы2024", "SəsVer")),
    ("en", "Every vote counts on {day} {month_en}, see you at the polls", ("Election2024", "SəsVer")),
)
_BURST = (
    ("az", "Bu gün Körpü Günüdür, hamı bizimlə", ()),
    ("az", "Körpü Günü: gələcəyə birlikdə addımlayırıq", ()),
    ("ru", "Сегодня День моста, все с нами", ()),
)
_RUN_TEXT = "Yaşıl Körpü — gələcəyin yolu! Hamı dəstəkləyir 👍 #YaşılKörpü"
_MONTHS = {
    "az": (
        "yanvarda",
        "fevralda",
        "martda",
        "apreldə",
        "mayda",
        "iyunda",
        "iyulda",
        "avqustda",
        "sentyabrda",
        "oktyabrda",
        "noyabrda",
        "dekabrda",
    ),
    "ru": (
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
_HOMOGLYPHS = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "c": "\u0441", "p": "\u0440", "x": "\u0445"}
_OP_EMOJI = ("👍", "💪", "🙌", "✅", "🇦🇿", "❤️", "👏", "🌉")
_OP_FILLERS = ("Razıyam.", "Bax!", "Doğrudur.", "Paylaşın!", "👉")
_OP_BIOS = ("Gələcək bizimlə | Future with us", "Yeni yol, yeni gün 🌉", "Vətəndaş. Ata. Bakı.", "")
_OP_FULLNAMES = _pairs(
    "aysel=Aysel Məmmədova|leyla=Leyla Əliyeva|nigar=Nigar Həsənli|gunel=Günel Quliyeva|"
    "farid=Fərid Hüseynov|rashad=Rəşad Babayev|tural=Tural Cəfərov|elvin=Elvin İsmayılov|"
    "kamran=Kamran Rzayev|murad=Murad Səfərov|aynur=Aynur Kərimova|sevinj=Sevinc Nəbiyeva|"
    "orkhan=Orxan Abbasov|ulviyya=Ülviyyə Məlikova|samir=Samir Vəliyev|nargiz=Nərgiz Qasımova"
)
_AMP_WORDS = _w(
    "blue|quick|silver|north|happy|lucky|bright|urban|solar|green|night|river|stone|cloud|"
    "fox|hawk|wolf|lake|pine|star|wave|echo|nova|bear|leaf|rain|sky|tiger|moon|sun"
)
